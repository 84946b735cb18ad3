// Scalar reference element-wise kernels.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/kernels.h"

namespace dseek::kernels {

void rmsnorm_reference(const float* x, const float* weight, int64_t n, float eps, float* out) {
  // Accumulate the mean square in double: it is one value per row, cheap, and
  // keeps long rows from losing digits.
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  const float inv = static_cast<float>(1.0 / std::sqrt(sum / static_cast<double>(n) + eps));
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * inv * weight[i];
}

void softmax_reference(float* x, int64_t n) {
  float max_value = -INFINITY;
  for (int64_t i = 0; i < n; ++i) max_value = std::max(max_value, x[i]);
  float total = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max_value);
    total += x[i];
  }
  const float inv = 1.0f / total;
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void silu_mul_reference(const float* gate, const float* up, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void topk_reference(const float* x, int64_t n, int64_t k, int32_t* out) {
  // Selection by repeated scans: k is small (experts per token, top-k sampling
  // candidates), and this is the definition the fast versions must match.
  std::vector<bool> taken(static_cast<size_t>(n), false);
  for (int64_t i = 0; i < k; ++i) {
    int64_t best = -1;
    for (int64_t j = 0; j < n; ++j)
      if (!taken[j] && (best < 0 || x[j] > x[best])) best = j;
    taken[best] = true;
    out[i] = static_cast<int32_t>(best);
  }
}

void rope_reference(float* x, int64_t n_pairs, const float* cos, const float* sin, RopeStyle style) {
  for (int64_t i = 0; i < n_pairs; ++i) {
    const int64_t a = style == RopeStyle::kInterleaved ? 2 * i : i;
    const int64_t b = style == RopeStyle::kInterleaved ? 2 * i + 1 : i + n_pairs;
    const float x0 = x[a];
    const float x1 = x[b];
    x[a] = x0 * cos[i] - x1 * sin[i];
    x[b] = x0 * sin[i] + x1 * cos[i];
  }
}

}  // namespace dseek::kernels
