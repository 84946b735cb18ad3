#include "weights/dtype.h"

#include <array>

namespace dseek {

namespace {
constexpr std::array<DTypeInfo, static_cast<size_t>(DType::kCount)> kInfo = {{
    {"F32", 1, 4, true, true},
    {"F16", 1, 2, true, true},
    {"BF16", 1, 2, true, true},
    {"F8_E4M3", 1, 1, true, true},
    {"I64", 1, 8, false, true},
    {"I32", 1, 4, false, true},
    {"I16", 1, 2, false, true},
    {"I8", 1, 1, false, true},
    {"U8", 1, 1, false, true},
    {"BOOL", 1, 1, false, true},
    {"F64", 1, 8, false, true},
    // Block layouts of ggml-common.h: an f16 scale (and min) per block, then the quants.
    {"Q8_0", 32, 34, true, false},
    {"Q4_0", 32, 18, true, false},
    {"Q4_1", 32, 20, true, false},
    {"Q5_0", 32, 22, true, false},
    {"Q5_1", 32, 24, true, false},
    {"Q2_K", 256, 84, true, false},
    {"Q3_K", 256, 110, true, false},
    {"Q4_K", 256, 144, true, false},
    {"Q5_K", 256, 176, true, false},
    {"Q6_K", 256, 210, true, false},
}};
}  // namespace

const DTypeInfo& dtype_info(DType t) { return kInfo[static_cast<size_t>(t)]; }

std::optional<DType> dtype_from_safetensors_name(std::string_view name) {
  for (size_t i = 0; i < kInfo.size(); ++i)
    if (kInfo[i].in_safetensors && kInfo[i].name == name) return static_cast<DType>(i);
  return std::nullopt;
}

std::optional<DType> dtype_from_name(std::string_view name) {
  auto upper = [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; };
  for (size_t i = 0; i < kInfo.size(); ++i) {
    const std::string_view n = kInfo[i].name;
    if (n.size() != name.size()) continue;
    bool same = true;
    for (size_t k = 0; k < n.size() && same; ++k) same = upper(name[k]) == n[k];
    if (same) return static_cast<DType>(i);
  }
  return std::nullopt;
}

bool is_block_quantized(DType t) { return dtype_info(t).block_elements > 1; }

std::optional<int64_t> row_bytes(DType t, int64_t cols) {
  const DTypeInfo& info = dtype_info(t);
  if (cols < 0 || cols % info.block_elements != 0) return std::nullopt;
  return cols / info.block_elements * info.block_bytes;
}

}  // namespace dseek
