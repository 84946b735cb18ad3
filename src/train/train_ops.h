// Forward and backward of the element-wise and row-wise operations of a
// decoder, in f32 with row sums in double. Each backward is checked on its
// own by finite differences (tests/train/ops_gradcheck_test.cpp) and, inside
// whole models, against PyTorch autograd.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/kernels.h"
#include "util/thread_pool.h"

namespace dseek::train {

// y = x / sqrt(mean(x^2) + eps) * w, row by row; rstd[r] keeps 1/sqrt(...) for backward.
void rmsnorm_forward(const float* x, const float* w, int64_t rows, int64_t n, float eps, float* y, float* rstd);
// dx (+)= d/dx, dw += d/dw (dw may be null).
void rmsnorm_backward(const float* x, const float* w, const float* rstd, const float* dy, int64_t rows, int64_t n,
                      float* dx, bool accumulate_dx, float* dw);

// out = silu(g) * u
void silu_mul_forward(const float* g, const float* u, int64_t n, float* out);
void silu_mul_backward(const float* g, const float* u, const float* dout, int64_t n, float* dg, float* du);

// Rotary embedding tables for positions 0..n_positions-1: [pos][pairs].
struct RopeTable {
  int64_t pairs = 0;
  std::vector<float> cos, sin, neg_sin;
};
// Rotates, in every row r (position r % seq_len), the `heads` vectors of
// 2*pairs values at x + r*row_stride + h*head_stride. inverse: rotate back
// (the backward of a rotation is the rotation by the opposite angle).
void rope_rows(float* x, int64_t rows, int64_t seq_len, int64_t row_stride, int64_t heads, int64_t head_stride,
               const RopeTable& table, kernels::RopeStyle style, bool inverse);

// Softmax cross-entropy. logits [rows][vocab] are replaced by
// grad_scale * (softmax - onehot(target)); returns the sum over rows of
// -log softmax[target]. Rows whose target is negative are skipped (zero grad).
double cross_entropy(ThreadPool& pool, float* logits, const int32_t* targets, int64_t rows, int64_t vocab,
                     float grad_scale);
// The loss only (logits untouched).
double cross_entropy_loss(ThreadPool& pool, const float* logits, const int32_t* targets, int64_t rows, int64_t vocab);

// Causal self-attention of n_seq sequences of seq_len tokens:
//   q [rows][heads][dk], k [rows][kv_heads][dk], v [rows][kv_heads][dv],
//   o [rows][heads][dv], probs [n_seq][heads][seq_len][seq_len] (kept for backward).
// Query head h reads kv head h / (heads / kv_heads).
struct AttentionShape {
  int64_t n_seq = 0, seq_len = 0, heads = 0, kv_heads = 0, dk = 0, dv = 0;
  float scale = 1.0f;
};
void attention_forward(ThreadPool& pool, const AttentionShape& s, const float* q, const float* k, const float* v,
                       float* probs, float* o);
// dq = d/dq; dk, dv = d/dk, d/dv (overwritten).
void attention_backward(ThreadPool& pool, const AttentionShape& s, const float* q, const float* k, const float* v,
                        const float* probs, const float* dout, float* dq, float* dk, float* dv);

}  // namespace dseek::train
