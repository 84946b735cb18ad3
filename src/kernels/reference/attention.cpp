// Scalar reference attention: scores, max-subtracted softmax, weighted sum of
// values, all in f32 (cached keys and values widened from their stored
// type), one (token, head) pair at a time.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/kernels.h"
#include "util/numeric_formats.h"

namespace dseek::kernels {

namespace {
float kv_at(const void* base, DType type, int64_t index) {
  const uint8_t* p = static_cast<const uint8_t*>(base);
  if (type == DType::F32) {
    float f;
    std::memcpy(&f, p + 4 * index, 4);
    return f;
  }
  uint16_t h;
  std::memcpy(&h, p + 2 * index, 2);
  return type == DType::F16 ? f16_to_f32(h) : bf16_to_f32(h);
}
}  // namespace

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
      const int64_t k0 = j * a.k_token_stride + kvh * a.k_head_stride;
      float dot = 0.0f;
      for (int64_t i = 0; i < a.head_dim_k; ++i) dot += q[i] * kv_at(a.k, a.kv_type, k0 + i);
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
      const int64_t v0 = j * a.v_token_stride + kvh * a.v_head_stride;
      for (int64_t i = 0; i < a.head_dim_v; ++i) out[i] += p * kv_at(a.v, a.kv_type, v0 + i);
    }
  }
}

}  // namespace dseek::kernels
