// AVX2 attention: the same arithmetic as the reference (scores, max-subtracted
// softmax, weighted sum), with the dot products and the value accumulation
// eight lanes wide; cached rows are widened from f16 / bf16 on the fly.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/avx2/simd_avx2.h"
#include "kernels/kernels.h"

namespace dseek::kernels::avx2 {
namespace {

template <DType T>
DSEEK_TARGET_AVX2 inline __m256 load_kv8(const void* base, int64_t i) {
  if constexpr (T == DType::F32) return _mm256_loadu_ps(static_cast<const float*>(base) + i);
  else return load8<T>(static_cast<const uint8_t*>(base), i, 1.0f);
}

template <DType T>
DSEEK_TARGET_AVX2 inline float kv_scalar(const void* base, int64_t i) {
  if constexpr (T == DType::F32) return static_cast<const float*>(base)[i];
  uint16_t h;
  std::memcpy(&h, static_cast<const uint8_t*>(base) + 2 * i, 2);
  return T == DType::F16 ? f16_to_f32(h) : bf16_to_f32(h);
}

template <DType T>
DSEEK_TARGET_AVX2 float dot(const float* a, const void* b, int64_t b0, int64_t n) {
  __m256 acc0 = _mm256_setzero_ps();
  __m256 acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), load_kv8<T>(b, b0 + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), load_kv8<T>(b, b0 + i + 8), acc1);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), load_kv8<T>(b, b0 + i), acc0);
  float sum = hsum(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) sum += a[i] * kv_scalar<T>(b, b0 + i);
  return sum;
}

template <DType T>
DSEEK_TARGET_AVX2 void axpy(float alpha, const void* x, int64_t x0, float* y, int64_t n) {
  const __m256 a = _mm256_set1_ps(alpha);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(a, load_kv8<T>(x, x0 + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += alpha * kv_scalar<T>(x, x0 + i);
}

template <DType T>
void attention(const AttentionArgs& a, int64_t task_begin, int64_t task_end) {
  std::vector<float> scores(static_cast<size_t>(std::max<int64_t>(a.n_keys, 1)));
  const int64_t group = a.n_heads / a.n_kv_heads;
  for (int64_t task = task_begin; task < task_end; ++task) {
    const int64_t t = task / a.n_heads;
    const int64_t h = task % a.n_heads;
    const int64_t kvh = h / group;
    const float* q = a.q + t * a.q_token_stride + h * a.q_head_stride;
    float* out = a.out + t * a.out_token_stride + h * a.out_head_stride;
    const int64_t visible = std::min(a.q_pos[t] + 1, a.n_keys);
    float max_score = -INFINITY;
    for (int64_t j = 0; j < visible; ++j) {
      scores[j] = dot<T>(q, a.k, j * a.k_token_stride + kvh * a.k_head_stride, a.head_dim_k) * a.scale;
      max_score = std::max(max_score, scores[j]);
    }
    float total = 0.0f;
    for (int64_t j = 0; j < visible; ++j) {
      scores[j] = std::exp(scores[j] - max_score);
      total += scores[j];
    }
    std::fill(out, out + a.head_dim_v, 0.0f);
    if (visible == 0) continue;
    const float inv_total = 1.0f / total;
    for (int64_t j = 0; j < visible; ++j)
      axpy<T>(scores[j] * inv_total, a.v, j * a.v_token_stride + kvh * a.v_head_stride, out, a.head_dim_v);
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

}  // namespace dseek::kernels::avx2
