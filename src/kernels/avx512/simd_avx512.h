// AVX-512 building blocks (F, BW, VL, DQ, VNNI; BF16 where marked). As in
// avx2/simd_avx2.h every function carries its own target attribute, so the
// files that include this stay baseline x86-64 and nothing here can leak
// into generic code. The table is used only when CPUID says the CPU has all
// of these (kernels/dispatch.cpp).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/int8_format.h"

#define DSEEK_TARGET_AVX512 \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")))
#define DSEEK_TARGET_AVX512VBMI \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx512vbmi,avx2,fma,f16c")))
#define DSEEK_TARGET_AVX512BF16 \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx512bf16,avx2,fma,f16c")))

namespace dseek::kernels::avx512 {

// The canonical reduction of 16 partial sums (int8_format.h, tree16).
DSEEK_TARGET_AVX512 static inline float tree16(__m512 p) {
  const __m256 a = _mm256_add_ps(_mm512_castps512_ps256(p), _mm512_extractf32x8_ps(p, 1));
  const __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  const __m128 c = _mm_add_ps(b, _mm_movehl_ps(b, b));
  return _mm_cvtss_f32(_mm_add_ss(c, _mm_movehdup_ps(c)));
}

// Plain horizontal sum (float kernels; any fixed order is fine there).
DSEEK_TARGET_AVX512 static inline float hsum(__m512 v) { return tree16(v); }

DSEEK_TARGET_AVX512 static inline int32_t hsum_epi32(__m512i v) {
  const __m256i a = _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
  const __m128i b = _mm_add_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
  const __m128i c = _mm_add_epi32(b, _mm_unpackhi_epi64(b, b));
  return _mm_cvtsi128_si32(_mm_add_epi32(c, _mm_shuffle_epi32(c, 1)));
}

// Pairwise lane sums of two vectors: per 128-bit lane
// [a0+a1, a2+a3, b0+b1, b2+b3].
DSEEK_TARGET_AVX512 static inline __m512i hadd_lanes(__m512i a, __m512i b) {
  const __m512 fa = _mm512_castsi512_ps(a), fb = _mm512_castsi512_ps(b);
  const __m512i even = _mm512_castps_si512(_mm512_shuffle_ps(fa, fb, 0x88));
  const __m512i odd = _mm512_castps_si512(_mm512_shuffle_ps(fa, fb, 0xDD));
  return _mm512_add_epi32(even, odd);
}

// s[p] holds the 16 lane sums of blocks 2p (lanes 0-7) and 2p+1 (lanes 8-15):
// returns the 16 block totals, block j in lane j.
DSEEK_TARGET_AVX512 static inline __m512i reduce_block_pairs(const __m512i s[8]) {
  const __m512i t0 = hadd_lanes(s[0], s[1]), t1 = hadd_lanes(s[2], s[3]);
  const __m512i t2 = hadd_lanes(s[4], s[5]), t3 = hadd_lanes(s[6], s[7]);
  // u0 lane (k, j): 128-bit lane k of s[j] summed (j = 0..3); u1 for s[4..7].
  const __m512i u0 = hadd_lanes(t0, t1), u1 = hadd_lanes(t2, t3);
  const __m512i x = _mm512_shuffle_i32x4(u0, u1, _MM_SHUFFLE(2, 0, 2, 0));
  const __m512i y = _mm512_shuffle_i32x4(u0, u1, _MM_SHUFFLE(3, 1, 3, 1));
  // Lanes now hold blocks 0,2,4,6, 1,3,5,7, 8,10,12,14, 9,11,13,15.
  const __m512i z = _mm512_add_epi32(x, y);
  return _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15), z);
}

DSEEK_TARGET_AVX512 static inline __m512 load_f16x16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

DSEEK_TARGET_AVX512 static inline __m512 load_bf16x16(const uint16_t* p) {
  return _mm512_castsi512_ps(
      _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 16));
}

}  // namespace dseek::kernels::avx512
