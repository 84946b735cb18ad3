// Integer products on block-quantized weights: the activation formats they
// read, and the ONE order of floating-point operations every kernel that
// computes them follows.
//
// Activations are quantized per token, as llama.cpp does, to int8 with one
// f32 scale per block of 32 values (for Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 weights)
// or per 256 values (for the k-quants): d = max|x| / 127, q = round-to-even(x / d).
// A block of weights times a block of activations is then an exact integer
// dot product; only the scales are floats.
//
// The float order ("canonical order") is fixed so that a token's result does
// not depend on how many tokens share its batch, how rows are split over
// threads, or which kernel (matrix-vector, matrix-matrix, scalar twin) ran:
//   P[0..15] = 0
//   for each block b in increasing order:
//     P[b % 16] = fma(float(isum_b), d_w[b] * d_x[b], P[b % 16])
//     (types with a min term: P[b % 16] = fma(min_term_b, ..., P[b % 16]), see below)
//   y = tree16(P)
// with isum_b, the integer part of block b, defined per type in
// reference/int8_matmul.cpp (the scalar twins) and tree16 below.
#pragma once

#include <cmath>
#include <cstdint>

#include "weights/dtype.h"

namespace dseek::kernels {

enum class ActFormat : uint8_t {
  kF32,         // plain f32 activations (no int8 path)
  kQ8_32,       // int8, one scale per 32 values
  kQ8_256,      // int8, one scale per 256 values
  kBF16Split,   // x = hi + mid + lo, three bf16 (exact for normal f32): bf16 dot-product units
  kCount
};

// The activation format the int8 kernels of a weight dtype read.
constexpr ActFormat int8_act_format(DType t) {
  switch (t) {
    case DType::Q8_0:
    case DType::Q4_0:
    case DType::Q4_1:
    case DType::Q5_0:
    case DType::Q5_1:
      return ActFormat::kQ8_32;
    case DType::Q2_K:
    case DType::Q3_K:
    case DType::Q4_K:
    case DType::Q5_K:
    case DType::Q6_K:
      return ActFormat::kQ8_256;
    default:
      return ActFormat::kF32;
  }
}

// Where the parts of one token's quantized activations live in its buffer
// (every part 64-byte aligned, padded with zeros to whole 16-lane vectors so
// SIMD code may read a full vector past the last block):
//   int8  q[n]         the values
//   float d[n/B]       scale per block (B = 32 or 256)
//   int32 sum16[n/16]  sum of q over each 16 values
//   int32 sum32[n/32]  sum of q over each 32 values
//   float sx[n/32]     d * sum32 for B = 32 (the min term of Q4_1/Q5_1), else 0
// For kBF16Split: uint16 hi[n] at q, mid[n] at d, lo[n] at sum16.
struct ActLayout {
  ActFormat format = ActFormat::kF32;
  int64_t n = 0;
  int64_t block = 0;
  int64_t off_d = 0, off_sum16 = 0, off_sum32 = 0, off_sx = 0;
  int64_t bytes = 0;  // per token; a multiple of 64

  static ActLayout make(ActFormat format, int64_t n) {
    auto round64 = [](int64_t b) { return (b + 63) / 64 * 64; };
    // Arrays of 4-byte lanes padded to a multiple of 16 lanes.
    auto lanes = [&](int64_t count) { return round64(4 * ((count + 15) / 16 * 16)); };
    ActLayout l;
    l.format = format;
    l.n = n;
    if (format == ActFormat::kBF16Split) {
      l.off_d = round64(2 * n);
      l.off_sum16 = 2 * l.off_d;
      l.bytes = 3 * l.off_d + 64;  // a full vector may be read past the end
      return l;
    }
    l.block = format == ActFormat::kQ8_256 ? 256 : 32;
    l.off_d = round64(n);
    l.off_sum16 = l.off_d + lanes(n / l.block);
    l.off_sum32 = l.off_sum16 + lanes(n / 16);
    l.off_sx = l.off_sum32 + lanes(n / 32);
    l.bytes = l.off_sx + lanes(n / 32);
    return l;
  }
};

// One token's quantized activations, as the kernels read them.
struct ActView {
  const uint8_t* base = nullptr;
  const ActLayout* layout = nullptr;
  const int8_t* q() const { return reinterpret_cast<const int8_t*>(base); }
  const float* d() const { return reinterpret_cast<const float*>(base + layout->off_d); }
  const int32_t* sum16() const { return reinterpret_cast<const int32_t*>(base + layout->off_sum16); }
  const int32_t* sum32() const { return reinterpret_cast<const int32_t*>(base + layout->off_sum32); }
  const float* sx() const { return reinterpret_cast<const float*>(base + layout->off_sx); }
  const uint16_t* hi() const { return reinterpret_cast<const uint16_t*>(base); }
  const uint16_t* mid() const { return reinterpret_cast<const uint16_t*>(base + layout->off_d); }
  const uint16_t* lo() const { return reinterpret_cast<const uint16_t*>(base + layout->off_sum16); }
};

// The final reduction of the 16 partial sums, in this exact order.
static inline float tree16(const float* p) {
  float a[8], b[4];
  for (int j = 0; j < 8; ++j) a[j] = p[j] + p[j + 8];
  for (int j = 0; j < 4; ++j) b[j] = a[j] + a[j + 4];
  const float c0 = b[0] + b[2], c1 = b[1] + b[3];
  return c0 + c1;
}

// The activation quantizer's rounding (the SIMD conversion's default mode).
static inline int32_t round_to_even(float v) { return static_cast<int32_t>(std::nearbyint(v)); }

}  // namespace dseek::kernels
