// AVX2 building blocks. Every function carries its own target attribute (no
// per-file -mavx2), so the translation units that include this stay
// baseline x86-64 and nothing compiled here can leak into generic code.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "util/numeric_formats.h"
#include "weights/tensor.h"

#define DSEEK_TARGET_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace dseek::kernels::avx2 {

DSEEK_TARGET_AVX2 static inline float hsum(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v);
  __m128 hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
  return _mm_cvtss_f32(lo);
}

// Eight weights starting at column c of a row, as f32. `scale` is the fp8
// block scale of those columns (ignored for other types).
template <DType T>
DSEEK_TARGET_AVX2 static inline __m256 load8(const uint8_t* row, int64_t c, float scale) {
  if constexpr (T == DType::F32) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(row + 4 * c));
  } else if constexpr (T == DType::BF16) {
    __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * c));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  } else if constexpr (T == DType::F16) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * c)));
  } else {
    static_assert(T == DType::F8_E4M3);
    __m256i codes = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(row + c)));
    __m256 values = _mm256_i32gather_ps(kFp8E4m3ToF32.data(), codes, 4);
    return _mm256_mul_ps(values, _mm256_set1_ps(scale));
  }
}

}  // namespace dseek::kernels::avx2
