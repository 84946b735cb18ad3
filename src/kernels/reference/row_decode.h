// The reference meaning of every weight dtype: row r, columns [c0, c1) of a
// weight tensor as f32. Loads go through memcpy because safetensors does not
// promise aligned tensor data. Block-quantized types decode whole blocks
// through src/quant.
#pragma once

#include <cstring>

#include "quant/quant.h"
#include "util/numeric_formats.h"
#include "weights/tensor.h"

namespace dseek::kernels {

static inline float load_f32(const uint8_t* p) {
  float v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

static inline uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

static inline float block_scale_at(const BlockScale& s, int64_t row, int64_t col) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(s.data) +
                     sizeof(float) * ((row + s.row_offset) / s.block_rows * s.cols + col / s.block_cols);
  return load_f32(p);
}

// Columns [c0, c1) of a row of a block-quantized type: the blocks that hold
// them are dequantized whole (quant::dequantize is their reference meaning).
static inline void decode_blocks_reference(DType t, const uint8_t* row, int64_t c0, int64_t c1, float* out) {
  const int64_t block = dtype_info(t).block_elements;
  const int64_t block_bytes = dtype_info(t).block_bytes;
  float buf[256];
  for (int64_t b = c0 / block; b * block < c1; ++b) {
    const int64_t first = b * block;
    const int64_t lo = first > c0 ? first : c0;
    const int64_t hi = first + block < c1 ? first + block : c1;
    if (lo == first && hi == first + block) {
      quant::dequantize(t, row + b * block_bytes, out + (first - c0), block);
    } else {
      quant::dequantize(t, row + b * block_bytes, buf, block);
      for (int64_t c = lo; c < hi; ++c) out[c - c0] = buf[c - first];
    }
  }
}

static inline void decode_row_reference(const Tensor& w, int64_t r, int64_t c0, int64_t c1, float* out) {
  const uint8_t* row = w.row_data(r);
  if (is_block_quantized(w.dtype)) {
    decode_blocks_reference(w.dtype, row, c0, c1, out);
    return;
  }
  switch (w.dtype) {
    case DType::F32:
      for (int64_t c = c0; c < c1; ++c) out[c - c0] = load_f32(row + 4 * c);
      break;
    case DType::F16:
      for (int64_t c = c0; c < c1; ++c) out[c - c0] = f16_to_f32(load_u16(row + 2 * c));
      break;
    case DType::BF16:
      for (int64_t c = c0; c < c1; ++c) out[c - c0] = bf16_to_f32(load_u16(row + 2 * c));
      break;
    case DType::F8_E4M3:
      // DeepSeek's dequantization: float32(fp8) * scale, the product in f32.
      for (int64_t c = c0; c < c1; ++c)
        out[c - c0] = fp8_e4m3_to_f32(row[c]) * block_scale_at(w.block_scale, r, c);
      break;
    default:
      DSEEK_CHECK(false && "dtype is not computable");
  }
}

}  // namespace dseek::kernels
