// Per-token activation quantization, 8 lanes wide: the same operations as
// reference/int8_matmul.cpp, so the same bytes (the harness checks). The
// bf16 split (for the AVX-512 BF16 kernels only) keeps the scalar version.
#include <algorithm>
#include <cstring>

#include "kernels/avx2/simd_avx2.h"
#include "kernels/kernels.h"

namespace dseek::kernels {
void quantize_act_reference(const float* x, const ActLayout& layout, uint8_t* out);

namespace avx2 {
namespace {

DSEEK_TARGET_AVX2 inline int32_t hsum_epi32(__m256i v) {
  __m128i a = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  a = _mm_add_epi32(a, _mm_unpackhi_epi64(a, a));
  return _mm_cvtsi128_si32(_mm_add_epi32(a, _mm_shuffle_epi32(a, 1)));
}

DSEEK_TARGET_AVX2 inline float hmax(__m256 v) {
  __m128 a = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  a = _mm_max_ps(a, _mm_movehl_ps(a, a));
  return _mm_cvtss_f32(_mm_max_ss(a, _mm_movehdup_ps(a)));
}

DSEEK_TARGET_AVX2 void quantize_q8(const float* x, const ActLayout& l, uint8_t* out) {
  std::memset(out + l.n, 0, static_cast<size_t>(l.bytes - l.n));
  int8_t* q = reinterpret_cast<int8_t*>(out);
  float* d = reinterpret_cast<float*>(out + l.off_d);
  int32_t* sum16 = reinterpret_cast<int32_t*>(out + l.off_sum16);
  int32_t* sum32 = reinterpret_cast<int32_t*>(out + l.off_sum32);
  float* sx = reinterpret_cast<float*>(out + l.off_sx);
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256i lo = _mm256_set1_epi32(-128), hi = _mm256_set1_epi32(127);
  for (int64_t b = 0; b < l.n / l.block; ++b) {
    const float* xb = x + b * l.block;
    __m256 amax = _mm256_setzero_ps();
    for (int64_t i = 0; i < l.block; i += 8) amax = _mm256_max_ps(amax, _mm256_and_ps(_mm256_loadu_ps(xb + i), abs_mask));
    const float scale = hmax(amax) / 127.0f;
    const float inv = scale != 0.0f ? 1.0f / scale : 0.0f;
    d[b] = scale;
    const __m256 vinv = _mm256_set1_ps(inv);
    for (int64_t i = 0; i < l.block; i += 16) {
      __m256i v0 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xb + i), vinv));
      __m256i v1 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xb + i + 8), vinv));
      v0 = _mm256_min_epi32(_mm256_max_epi32(v0, lo), hi);
      v1 = _mm256_min_epi32(_mm256_max_epi32(v1, lo), hi);
      sum16[(b * l.block + i) / 16] = hsum_epi32(_mm256_add_epi32(v0, v1));
      // int32 -> int8 (values already in range): pack, then undo the lane interleave.
      const __m256i w = _mm256_packs_epi32(v0, v1);
      const __m128i bytes = _mm_packs_epi16(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q + b * l.block + i),
                       _mm_shuffle_epi32(bytes, _MM_SHUFFLE(3, 1, 2, 0)));
    }
  }
  for (int64_t g = 0; g < l.n / 32; ++g) {
    sum32[g] = sum16[2 * g] + sum16[2 * g + 1];
    sx[g] = l.block == 32 ? d[g] * static_cast<float>(sum32[g]) : 0.0f;
  }
}

void quantize_act(const float* x, const ActLayout& layout, uint8_t* out) {
  if (layout.format == ActFormat::kBF16Split) quantize_act_reference(x, layout, out);
  else quantize_q8(x, layout, out);
}

}  // namespace

void fill_quantize_act(KernelTable& table) {
  for (ActFormat f : {ActFormat::kQ8_32, ActFormat::kQ8_256, ActFormat::kBF16Split})
    table.quantize_act[static_cast<int>(f)] = quantize_act;
}

}  // namespace avx2
}  // namespace dseek::kernels
