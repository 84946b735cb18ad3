// Per-token activation quantization, 16 lanes wide: the same operations as
// reference/int8_matmul.cpp (so the bytes are identical: the harness checks).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/avx512/simd_avx512.h"
#include "kernels/kernels.h"
#include "util/numeric_formats.h"

namespace dseek::kernels::avx512 {
namespace {

DSEEK_TARGET_AVX512 void quantize_q8(const float* x, const ActLayout& l, uint8_t* out) {
  std::memset(out + l.n, 0, static_cast<size_t>(l.bytes - l.n));
  int8_t* q = reinterpret_cast<int8_t*>(out);
  float* d = reinterpret_cast<float*>(out + l.off_d);
  int32_t* sum16 = reinterpret_cast<int32_t*>(out + l.off_sum16);
  int32_t* sum32 = reinterpret_cast<int32_t*>(out + l.off_sum32);
  float* sx = reinterpret_cast<float*>(out + l.off_sx);
  const __m512 sign_off = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
  const __m512i lo = _mm512_set1_epi32(-128), hi = _mm512_set1_epi32(127);
  const int64_t per_block = l.block / 16;
  for (int64_t b = 0; b < l.n / l.block; ++b) {
    const float* xb = x + b * l.block;
    __m512 amax = _mm512_setzero_ps();
    for (int64_t v = 0; v < per_block; ++v) amax = _mm512_max_ps(amax, _mm512_and_ps(_mm512_loadu_ps(xb + 16 * v), sign_off));
    const float m = _mm512_reduce_max_ps(amax);
    const float scale = m / 127.0f;
    const float inv = scale != 0.0f ? 1.0f / scale : 0.0f;
    d[b] = scale;
    const __m512 vinv = _mm512_set1_ps(inv);
    for (int64_t v = 0; v < per_block; ++v) {
      __m512i i = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(xb + 16 * v), vinv));
      i = _mm512_min_epi32(_mm512_max_epi32(i, lo), hi);
      const int64_t g = b * per_block + v;
      sum16[g] = hsum_epi32(i);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q + 16 * g), _mm512_cvtepi32_epi8(i));
    }
  }
  for (int64_t g = 0; g < l.n / 32; ++g) {
    sum32[g] = sum16[2 * g] + sum16[2 * g + 1];
    sx[g] = l.block == 32 ? d[g] * static_cast<float>(sum32[g]) : 0.0f;
  }
}

// f32 -> bf16 bits, round to nearest even (as f32_to_bf16 for non-NaN input).
DSEEK_TARGET_AVX512 inline __m256i to_bf16(__m512 v) {
  const __m512i bits = _mm512_castps_si512(v);
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(1));
  const __m512i rounded = _mm512_add_epi32(bits, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff)));
  return _mm512_cvtepi32_epi16(_mm512_srli_epi32(rounded, 16));
}

DSEEK_TARGET_AVX512 inline __m512 widen(__m256i h) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

DSEEK_TARGET_AVX512 void quantize_bf16_split(const float* x, const ActLayout& l, uint8_t* out) {
  std::memset(out, 0, static_cast<size_t>(l.bytes));
  uint16_t* hi = reinterpret_cast<uint16_t*>(out);
  uint16_t* mid = reinterpret_cast<uint16_t*>(out + l.off_d);
  uint16_t* lo = reinterpret_cast<uint16_t*>(out + l.off_sum16);
  int64_t i = 0;
  for (; i + 16 <= l.n; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    const __m256i h = to_bf16(v);
    const __m512 r1 = _mm512_sub_ps(v, widen(h));
    const __m256i m = to_bf16(r1);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(hi + i), h);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(mid + i), m);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(lo + i), to_bf16(_mm512_sub_ps(r1, widen(m))));
  }
  for (; i < l.n; ++i) {
    hi[i] = f32_to_bf16(x[i]);
    const float r1 = x[i] - bf16_to_f32(hi[i]);
    mid[i] = f32_to_bf16(r1);
    lo[i] = f32_to_bf16(r1 - bf16_to_f32(mid[i]));
  }
}

void quantize_act(const float* x, const ActLayout& layout, uint8_t* out) {
  if (layout.format == ActFormat::kBF16Split) quantize_bf16_split(x, layout, out);
  else quantize_q8(x, layout, out);
}

}  // namespace

void fill_quantize_act(KernelTable& table) {
  for (ActFormat f : {ActFormat::kQ8_32, ActFormat::kQ8_256, ActFormat::kBF16Split})
    table.quantize_act[static_cast<int>(f)] = quantize_act;
}

}  // namespace dseek::kernels::avx512
