#include "weights/dtype.h"

#include <array>

namespace dseek {

namespace {
constexpr std::array<DTypeInfo, static_cast<size_t>(DType::kCount)> kInfo = {{
    {"F32", 1, 4, true},
    {"F16", 1, 2, true},
    {"BF16", 1, 2, true},
    {"F8_E4M3", 1, 1, true},
    {"I64", 1, 8, false},
    {"I32", 1, 4, false},
    {"I16", 1, 2, false},
    {"I8", 1, 1, false},
    {"U8", 1, 1, false},
    {"BOOL", 1, 1, false},
    {"F64", 1, 8, false},
}};
}  // namespace

const DTypeInfo& dtype_info(DType t) { return kInfo[static_cast<size_t>(t)]; }

std::optional<DType> dtype_from_safetensors_name(std::string_view name) {
  for (size_t i = 0; i < kInfo.size(); ++i)
    if (kInfo[i].name == name) return static_cast<DType>(i);
  return std::nullopt;
}

std::optional<int64_t> row_bytes(DType t, int64_t cols) {
  const DTypeInfo& info = dtype_info(t);
  if (cols < 0 || cols % info.block_elements != 0) return std::nullopt;
  return cols / info.block_elements * info.block_bytes;
}

}  // namespace dseek
