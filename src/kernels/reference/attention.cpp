// Scalar reference attention: scores, max-subtracted softmax, weighted sum of
// values, all in f32, one (token, head) pair at a time.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/kernels.h"

namespace dseek::kernels {

void attention_reference(const AttentionArgs& a, int64_t task_begin, int64_t task_end) {
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
      const float* k = a.k + j * a.k_token_stride + kvh * a.k_head_stride;
      float dot = 0.0f;
      for (int64_t i = 0; i < a.head_dim_k; ++i) dot += q[i] * k[i];
      scores[j] = dot * a.scale;
      max_score = std::max(max_score, scores[j]);
    }
    float total = 0.0f;
    for (int64_t j = 0; j < visible; ++j) {
      scores[j] = std::exp(scores[j] - max_score);
      total += scores[j];
    }
    for (int64_t i = 0; i < a.head_dim_v; ++i) out[i] = 0.0f;
    if (visible == 0) continue;
    const float inv_total = 1.0f / total;
    for (int64_t j = 0; j < visible; ++j) {
      const float p = scores[j] * inv_total;
      const float* v = a.v + j * a.v_token_stride + kvh * a.v_head_stride;
      for (int64_t i = 0; i < a.head_dim_v; ++i) out[i] += p * v[i];
    }
  }
}

}  // namespace dseek::kernels
