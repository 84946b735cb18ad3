// Element types of stored weights. Quantized types (issue: performance) join
// this enum as row-blocked formats: a row of `cols` elements is cols/block
// blocks of block_bytes each.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace dseek {

enum class DType : uint8_t {
  F32,
  F16,
  BF16,
  F8_E4M3,  // DeepSeek-V3 fp8: needs a per-128x128-block f32 scale (Tensor::block_scale)
  // Integer types appear in some checkpoints (never as weights we compute with).
  I64,
  I32,
  I16,
  I8,
  U8,
  BOOL,
  F64,
  kCount
};

struct DTypeInfo {
  std::string_view name;  // safetensors spelling
  int block_elements;     // elements per storage block (1 for plain types)
  int block_bytes;        // bytes per storage block
  bool computable;        // usable as weights by the kernels
};

const DTypeInfo& dtype_info(DType t);
std::optional<DType> dtype_from_safetensors_name(std::string_view name);

// Bytes of a row of `cols` elements; nullopt when cols is not a whole number of blocks.
std::optional<int64_t> row_bytes(DType t, int64_t cols);

}  // namespace dseek
