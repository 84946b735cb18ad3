// Element types of stored weights. Block-quantized types (llama.cpp's
// formats, byte for byte; see src/quant) are row-blocked: a row of `cols`
// elements is cols/block_elements blocks of block_bytes each.
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
  // llama.cpp block formats (GGUF): 32-element blocks...
  Q8_0,
  Q4_0,
  Q4_1,
  Q5_0,
  Q5_1,
  // ... and 256-element "k-quant" super-blocks.
  Q2_K,
  Q3_K,
  Q4_K,
  Q5_K,
  Q6_K,
  kCount
};

struct DTypeInfo {
  std::string_view name;  // safetensors spelling (llama.cpp's for block types)
  int block_elements;     // elements per storage block (1 for plain types)
  int block_bytes;        // bytes per storage block
  bool computable;        // usable as weights by the kernels
  bool in_safetensors;    // a dtype safetensors files may declare
};

const DTypeInfo& dtype_info(DType t);
std::optional<DType> dtype_from_safetensors_name(std::string_view name);
// Any dtype by its name (case-insensitive: "q4_k" finds Q4_K).
std::optional<DType> dtype_from_name(std::string_view name);
bool is_block_quantized(DType t);

// Bytes of a row of `cols` elements; nullopt when cols is not a whole number of blocks.
std::optional<int64_t> row_bytes(DType t, int64_t cols);

}  // namespace dseek
