// AVX-512 attention. The heads that read the same cached rows (all heads of
// a token in absorbed MLA, a GQA group in dense models) are taken up to four
// at a time, so each key or value row is loaded (and widened from f16 /
// bf16) once for four heads: scores four keys by four heads in sixteen
// accumulators, a max-subtracted softmax with a vectorised exp, then the
// weighted sum of value rows. Per head the arithmetic is the same whichever
// heads share its group, so results do not depend on how tasks are split.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/avx512/simd_avx512.h"
#include "kernels/kernels.h"

namespace dseek::kernels::avx512 {
namespace {

constexpr int kHeads = 4;  // heads per group
constexpr int kKeys = 4;   // keys per step of the score loop

template <DType T>
DSEEK_TARGET_AVX512 inline __m512 load_kv16(const void* base, int64_t i, __mmask16 mask) {
  if constexpr (T == DType::F32) {
    return _mm512_maskz_loadu_ps(mask, static_cast<const float*>(base) + i);
  } else {
    const __m256i h = _mm256_maskz_loadu_epi16(mask, static_cast<const uint16_t*>(base) + i);
    if constexpr (T == DType::F16) return _mm512_cvtph_ps(h);
    else return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
}

// e^x for x <= 0 (scores minus their max), Cephes' single-precision
// polynomial after reduction by ln 2: about one ulp.
DSEEK_TARGET_AVX512 inline __m512 exp_nonpositive(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-87.0f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, n);
}

DSEEK_TARGET_AVX512 inline __mmask16 tail_mask(int64_t left) {
  if (left <= 0) return 0;
  return left >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << left) - 1u);
}

// Scores of keys [j0, j0 + NK) for the group's heads into s[h * stride + j].
template <DType T, int NK>
DSEEK_TARGET_AVX512 void score_keys(const AttentionArgs& a, const float* const q[kHeads], int64_t kvh, int64_t j0,
                                    float* s, int64_t stride) {
  __m512 acc[kHeads][NK];
  for (int h = 0; h < kHeads; ++h)
    for (int k = 0; k < NK; ++k) acc[h][k] = _mm512_setzero_ps();
  for (int64_t c = 0; c < a.head_dim_k; c += 16) {
    const __mmask16 mask = tail_mask(a.head_dim_k - c);
    __m512 kv[NK];
    for (int k = 0; k < NK; ++k) kv[k] = load_kv16<T>(a.k, (j0 + k) * a.k_token_stride + kvh * a.k_head_stride + c, mask);
    for (int h = 0; h < kHeads; ++h) {
      const __m512 qh = _mm512_maskz_loadu_ps(mask, q[h] + c);
      for (int k = 0; k < NK; ++k) acc[h][k] = _mm512_fmadd_ps(qh, kv[k], acc[h][k]);
    }
  }
  for (int h = 0; h < kHeads; ++h)
    for (int k = 0; k < NK; ++k) s[h * stride + j0 + k] = hsum(acc[h][k]) * a.scale;
}

template <DType T>
DSEEK_TARGET_AVX512 void head_group(const AttentionArgs& a, int64_t t, int64_t kvh, int64_t h0, int nh,
                                    std::vector<float>& scores) {
  const int64_t visible = std::min(a.q_pos[t] + 1, a.n_keys);
  const float* q[kHeads];
  float* out[kHeads];
  for (int h = 0; h < kHeads; ++h) {
    // Missing heads of a short group repeat the last one (computed, not stored).
    const int64_t head = h0 + std::min(h, nh - 1);
    q[h] = a.q + t * a.q_token_stride + head * a.q_head_stride;
    out[h] = a.out + t * a.out_token_stride + head * a.out_head_stride;
  }
  if (visible <= 0) {
    for (int h = 0; h < nh; ++h) std::fill(out[h], out[h] + a.head_dim_v, 0.0f);
    return;
  }
  const int64_t stride = (visible + 15) / 16 * 16;
  scores.resize(static_cast<size_t>(kHeads * stride));
  float* s = scores.data();
  int64_t j = 0;
  for (; j + kKeys <= visible; j += kKeys) score_keys<T, kKeys>(a, q, kvh, j, s, stride);
  for (; j < visible; ++j) score_keys<T, 1>(a, q, kvh, j, s, stride);

  // Softmax per head (padding lanes past `visible` end up 0).
  for (int h = 0; h < kHeads; ++h) {
    float* sh = s + h * stride;
    __m512 mx = _mm512_set1_ps(-INFINITY);
    for (int64_t i = 0; i < visible; i += 16) mx = _mm512_max_ps(mx, _mm512_mask_loadu_ps(mx, tail_mask(visible - i), sh + i));
    const __m512 m = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
    __m512 total = _mm512_setzero_ps();
    for (int64_t i = 0; i < stride; i += 16) {
      const __mmask16 live = i < visible ? tail_mask(visible - i) : __mmask16(0);
      const __m512 e = _mm512_maskz_mov_ps(live, exp_nonpositive(_mm512_sub_ps(_mm512_maskz_loadu_ps(live, sh + i), m)));
      _mm512_storeu_ps(sh + i, e);
      total = _mm512_add_ps(total, e);
    }
    const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(total));
    for (int64_t i = 0; i < stride; i += 16) _mm512_storeu_ps(sh + i, _mm512_mul_ps(_mm512_loadu_ps(sh + i), inv));
  }

  // out_h = sum_j p_h[j] * v_j, 32 values of the row at a time.
  for (int64_t c = 0; c < a.head_dim_v; c += 32) {
    const __mmask16 m0 = tail_mask(a.head_dim_v - c), m1 = tail_mask(a.head_dim_v - c - 16);
    __m512 acc[kHeads][2];
    for (int h = 0; h < kHeads; ++h) acc[h][0] = acc[h][1] = _mm512_setzero_ps();
    for (int64_t jj = 0; jj < visible; ++jj) {
      const int64_t v0 = jj * a.v_token_stride + kvh * a.v_head_stride + c;
      const __m512 va = load_kv16<T>(a.v, v0, m0);
      const __m512 vb = load_kv16<T>(a.v, v0 + 16, m1);
      for (int h = 0; h < kHeads; ++h) {
        const __m512 p = _mm512_set1_ps(s[h * stride + jj]);
        acc[h][0] = _mm512_fmadd_ps(p, va, acc[h][0]);
        acc[h][1] = _mm512_fmadd_ps(p, vb, acc[h][1]);
      }
    }
    for (int h = 0; h < nh; ++h) {
      _mm512_mask_storeu_ps(out[h] + c, m0, acc[h][0]);
      _mm512_mask_storeu_ps(out[h] + c + 16, m1, acc[h][1]);
    }
  }
}

template <DType T>
void attention(const AttentionArgs& a, int64_t task_begin, int64_t task_end) {
  thread_local std::vector<float> scores;
  const int64_t group = a.n_heads / a.n_kv_heads;
  for (int64_t task = task_begin; task < task_end;) {
    const int64_t t = task / a.n_heads;
    const int64_t h0 = task % a.n_heads;
    const int64_t kvh = h0 / group;
    // Up to four heads of the same token and kv head within the range.
    int nh = 1;
    while (nh < kHeads && task + nh < task_end && (h0 + nh) % a.n_heads != 0 && (h0 + nh) / group == kvh) ++nh;
    head_group<T>(a, t, kvh, h0, nh, scores);
    task += nh;
  }
}

void attention_any(const AttentionArgs& a, int64_t task_begin, int64_t task_end) {
  switch (a.kv_type) {
    case DType::F16: attention<DType::F16>(a, task_begin, task_end); break;
    case DType::BF16: attention<DType::BF16>(a, task_begin, task_end); break;
    default: attention<DType::F32>(a, task_begin, task_end); break;
  }
}

}  // namespace

void fill_attention(KernelTable& table) { table.attention = attention_any; }

}  // namespace dseek::kernels::avx512
