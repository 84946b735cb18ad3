#include "train/train_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/ops.h"
#include "train/gemm.h"

namespace dseek::train {

void rmsnorm_forward(const float* x, const float* w, int64_t rows, int64_t n, float eps, float* y, float* rstd) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(xr[i]) * xr[i];
    const float inv = static_cast<float>(1.0 / std::sqrt(sum / static_cast<double>(n) + eps));
    rstd[r] = inv;
    float* yr = y + r * n;
    for (int64_t i = 0; i < n; ++i) yr[i] = xr[i] * inv * w[i];
  }
}

void rmsnorm_backward(const float* x, const float* w, const float* rstd, const float* dy, int64_t rows, int64_t n,
                      float* dx, bool accumulate_dx, float* dw) {
  // y_i = x_i r w_i with r = (mean x^2 + eps)^-1/2, dr/dx_j = -r^3 x_j / n:
  // dx_j = r w_j dy_j - x_j r^3 / n * sum_i dy_i w_i x_i.
  for (int64_t row = 0; row < rows; ++row) {
    const float* xr = x + row * n;
    const float* dyr = dy + row * n;
    const double r = rstd[row];
    double dot = 0.0;
    for (int64_t i = 0; i < n; ++i) dot += static_cast<double>(dyr[i]) * w[i] * xr[i];
    const float c = static_cast<float>(r * r * r * dot / static_cast<double>(n));
    const float rf = static_cast<float>(r);
    float* dxr = dx + row * n;
    for (int64_t i = 0; i < n; ++i) {
      const float g = rf * w[i] * dyr[i] - xr[i] * c;
      dxr[i] = accumulate_dx ? dxr[i] + g : g;
    }
    if (dw)
      for (int64_t i = 0; i < n; ++i) dw[i] += dyr[i] * xr[i] * rf;
  }
}

void silu_mul_forward(const float* g, const float* u, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

void silu_mul_backward(const float* g, const float* u, const float* dout, int64_t n, float* dg, float* du) {
  // silu(g) = g s(g); silu'(g) = s (1 + g (1 - s)).
  for (int64_t i = 0; i < n; ++i) {
    const float s = 1.0f / (1.0f + std::exp(-g[i]));
    const float silu = g[i] * s;
    dg[i] = dout[i] * u[i] * s * (1.0f + g[i] * (1.0f - s));
    du[i] = dout[i] * silu;
  }
}

void rope_rows(float* x, int64_t rows, int64_t seq_len, int64_t row_stride, int64_t heads, int64_t head_stride,
               const RopeTable& t, kernels::RopeStyle style, bool inverse) {
  const float* sin = inverse ? t.neg_sin.data() : t.sin.data();
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t pos = r % seq_len;
    for (int64_t h = 0; h < heads; ++h)
      ops::rope(x + r * row_stride + h * head_stride, t.pairs, t.cos.data() + pos * t.pairs, sin + pos * t.pairs,
                style);
  }
}

namespace {

// One row: returns -log softmax[target]; writes the gradient if grad != null
// (grad may alias logits: each exponential is computed once, kept in grad,
// then scaled).
double cross_entropy_row(const float* logits, int32_t target, int64_t vocab, float grad_scale, float* grad) {
  float max_logit = -INFINITY;
  for (int64_t j = 0; j < vocab; ++j) max_logit = std::max(max_logit, logits[j]);
  const float target_logit = logits[target];
  double total = 0.0;
  if (grad) {
    for (int64_t j = 0; j < vocab; ++j) {
      grad[j] = std::exp(logits[j] - max_logit);
      total += grad[j];
    }
    const float scale = static_cast<float>(grad_scale / total);
    for (int64_t j = 0; j < vocab; ++j) grad[j] *= scale;
    grad[target] -= grad_scale;
  } else {
    for (int64_t j = 0; j < vocab; ++j) total += std::exp(logits[j] - max_logit);
  }
  return std::log(total) - static_cast<double>(target_logit - max_logit);
}

}  // namespace

double cross_entropy(ThreadPool& pool, float* logits, const int32_t* targets, int64_t rows, int64_t vocab,
                     float grad_scale) {
  std::vector<double> losses(static_cast<size_t>(rows), 0.0);
  pool.parallel_for(rows, 4, [&](int64_t begin, int64_t end, int) {
    for (int64_t r = begin; r < end; ++r) {
      float* row = logits + r * vocab;
      if (targets[r] < 0) {
        std::fill(row, row + vocab, 0.0f);
        continue;
      }
      losses[r] = cross_entropy_row(row, targets[r], vocab, grad_scale, row);
    }
  });
  double sum = 0.0;
  for (double l : losses) sum += l;  // a fixed order: the same sum every run
  return sum;
}

double cross_entropy_loss(ThreadPool& pool, const float* logits, const int32_t* targets, int64_t rows,
                          int64_t vocab) {
  std::vector<double> losses(static_cast<size_t>(rows), 0.0);
  pool.parallel_for(rows, 4, [&](int64_t begin, int64_t end, int) {
    for (int64_t r = begin; r < end; ++r)
      if (targets[r] >= 0) losses[r] = cross_entropy_row(logits + r * vocab, targets[r], vocab, 0.0f, nullptr);
  });
  double sum = 0.0;
  for (double l : losses) sum += l;
  return sum;
}

void attention_forward(ThreadPool& pool, const AttentionShape& s, const float* q, const float* k, const float* v,
                       float* probs, float* o) {
  const int64_t t_len = s.seq_len;
  const int64_t group = s.heads / s.kv_heads;
  const int64_t q_stride = s.heads * s.dk, k_stride = s.kv_heads * s.dk;
  const int64_t v_stride = s.kv_heads * s.dv, o_stride = s.heads * s.dv;
  pool.parallel_for(s.n_seq * s.heads, 1, [&](int64_t begin, int64_t end, int) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t seq = task / s.heads, h = task % s.heads, kvh = h / group;
      const int64_t row0 = seq * t_len;
      float* p = probs + task * t_len * t_len;
      // Scores for every (query, key) pair; the future half is masked below.
      gemm_serial({Trans::kNo, Trans::kYes, t_len, t_len, s.dk, q + row0 * q_stride + h * s.dk, q_stride,
                   k + row0 * k_stride + kvh * s.dk, k_stride, p, t_len, false});
      for (int64_t i = 0; i < t_len; ++i) {
        float* row = p + i * t_len;
        float max_score = -INFINITY;
        for (int64_t j = 0; j <= i; ++j) {
          row[j] *= s.scale;
          max_score = std::max(max_score, row[j]);
        }
        float total = 0.0f;
        for (int64_t j = 0; j <= i; ++j) {
          row[j] = std::exp(row[j] - max_score);
          total += row[j];
        }
        const float inv = 1.0f / total;
        for (int64_t j = 0; j <= i; ++j) row[j] *= inv;
        std::fill(row + i + 1, row + t_len, 0.0f);
      }
      gemm_serial({Trans::kNo, Trans::kNo, t_len, s.dv, t_len, p, t_len, v + row0 * v_stride + kvh * s.dv, v_stride,
                   o + row0 * o_stride + h * s.dv, o_stride, false});
    }
  });
}

void attention_backward(ThreadPool& pool, const AttentionShape& s, const float* q, const float* k, const float* v,
                        const float* probs, const float* dout, float* dq, float* dk, float* dv) {
  const int64_t t_len = s.seq_len;
  const int64_t group = s.heads / s.kv_heads;
  const int64_t q_stride = s.heads * s.dk, k_stride = s.kv_heads * s.dk;
  const int64_t v_stride = s.kv_heads * s.dv, o_stride = s.heads * s.dv;
  // One task per (sequence, kv head): the query heads sharing a kv head add
  // into its dK/dV in a fixed order, so there are no races and no
  // run-to-run differences.
  pool.parallel_for(s.n_seq * s.kv_heads, 1, [&](int64_t begin, int64_t end, int) {
    std::vector<float> ds(static_cast<size_t>(t_len * t_len));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t seq = task / s.kv_heads, kvh = task % s.kv_heads;
      const int64_t row0 = seq * t_len;
      const float* kh = k + row0 * k_stride + kvh * s.dk;
      const float* vh = v + row0 * v_stride + kvh * s.dv;
      float* dkh = dk + row0 * k_stride + kvh * s.dk;
      float* dvh = dv + row0 * v_stride + kvh * s.dv;
      for (int64_t g = 0; g < group; ++g) {
        const int64_t h = kvh * group + g;
        const float* p = probs + (seq * s.heads + h) * t_len * t_len;
        const float* qh = q + row0 * q_stride + h * s.dk;
        const float* doh = dout + row0 * o_stride + h * s.dv;
        const bool first = g == 0;
        // dV (+)= P^T dO
        gemm_serial({Trans::kYes, Trans::kNo, t_len, s.dv, t_len, p, t_len, doh, o_stride, dvh, v_stride, !first});
        // dP = dO V^T, then dS = P (dP - rowsum(P dP)) * scale
        gemm_serial({Trans::kNo, Trans::kYes, t_len, t_len, s.dv, doh, o_stride, vh, v_stride, ds.data(), t_len, false});
        for (int64_t i = 0; i < t_len; ++i) {
          const float* pr = p + i * t_len;
          float* dr = ds.data() + i * t_len;
          double dot = 0.0;
          for (int64_t j = 0; j <= i; ++j) dot += static_cast<double>(pr[j]) * dr[j];
          const float d = static_cast<float>(dot);
          for (int64_t j = 0; j <= i; ++j) dr[j] = pr[j] * (dr[j] - d) * s.scale;
          std::fill(dr + i + 1, dr + t_len, 0.0f);
        }
        // dQ = dS K, dK (+)= dS^T Q
        gemm_serial({Trans::kNo, Trans::kNo, t_len, s.dk, t_len, ds.data(), t_len, kh, k_stride,
                     dq + row0 * q_stride + h * s.dk, q_stride, false});
        gemm_serial({Trans::kYes, Trans::kNo, t_len, s.dk, t_len, ds.data(), t_len, qh, q_stride, dkh, k_stride, !first});
      }
    }
  });
}

}  // namespace dseek::train
