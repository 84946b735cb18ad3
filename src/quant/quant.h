// llama.cpp's block-quantized weight formats, byte for byte (ggml-common.h):
// the scalar reference meaning of every block type (dequantize) and the
// reference quantizers that make files identical to llama-quantize's output
// for the same f32 input (llama.cpp's quantize_row_*_ref: no importance
// matrix). SIMD kernels elsewhere must agree with dequantize() exactly.
//
// A row of n elements is n / block_elements blocks laid end to end; see
// dtype_info() for block sizes. Plain types (F32, F16, BF16) go through the
// same two functions as conversions, so writers need not special-case them.
#pragma once

#include <cstdint>

#include "weights/dtype.h"

namespace dseek::quant {

inline constexpr int kQK = 32;    // elements per block of Q8_0, Q4_0, Q4_1, Q5_0, Q5_1
inline constexpr int kQKK = 256;  // elements per k-quant super-block

// True for the types quantize()/dequantize() handle: F32, F16, BF16 and the block types.
bool is_supported(DType t);

// n elements of type t at src (n a multiple of the block size) to f32.
void dequantize(DType t, const uint8_t* src, float* dst, int64_t n);

// n f32 values to n elements of type t (n a multiple of the block size).
void quantize(DType t, const float* src, uint8_t* dst, int64_t n);

}  // namespace dseek::quant
