// The operations model code is written in. Each call picks the active
// kernel table's entry and spreads the work over the thread pool; the model
// never sees instruction sets or threads.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "kernels/kernels.h"
#include "util/thread_pool.h"
#include "weights/tensor.h"

namespace dseek::ops {

// y[t*ldy + r] = W[r,:] . x[t*ldx ...] for every row r of w, t < n_tokens.
void matmul(ThreadPool& pool, const Tensor& w, const float* x, int64_t n_tokens, int64_t ldx, float* y,
            int64_t ldy);
// Dense rows: ldx = w.cols(), ldy = w.rows().
inline void matmul(ThreadPool& pool, const Tensor& w, const float* x, int64_t n_tokens, float* y) {
  matmul(pool, w, x, n_tokens, w.cols(), y, w.rows());
}
// One product of a group run together (matmul_many).
struct MatmulJob {
  const Tensor* w = nullptr;
  const float* x = nullptr;
  int64_t n_tokens = 0;
  int64_t ldx = 0;
  float* y = nullptr;
  int64_t ldy = 0;
};
// Every job's product in ONE parallel loop over all their rows, so that no
// thread idles at the end of a small product (the experts of a decode step,
// the heads of absorbed attention). Each token's result is what matmul()
// gives it: jobs only share the loop. Jobs reading the same x (same pointer,
// token count, stride and width) share its quantized copy.
void matmul_many(ThreadPool& pool, std::span<const MatmulJob> jobs);

// The active table's packed copy of w for products with several tokens
// (kernels.h, PackedWeights), or null where it has none for w's type. The
// caller keeps it alive and sets w.packed; results do not change, only
// their speed (and the memory the copy takes).
std::unique_ptr<kernels::PackedWeights> pack_for_batches(const Tensor& w);

// y[t*ldy + c] = sum_r x[t*ldx + r] * W[r, c]
void matmul_transposed(ThreadPool& pool, const Tensor& w, const float* x, int64_t n_tokens, int64_t ldx,
                       float* y, int64_t ldy);

void attention(ThreadPool& pool, const kernels::AttentionArgs& args);

// Row-wise over n_rows rows of width n (contiguous).
void rmsnorm(const float* x, const float* weight, int64_t n_rows, int64_t n, float eps, float* out);
void softmax(float* x, int64_t n);
void silu_mul(const float* gate, const float* up, int64_t n, float* out);
void rope(float* x, int64_t n_pairs, const float* cos, const float* sin, kernels::RopeStyle style);
// Indices of the k largest values, largest first, ties to the lowest index.
void topk(const float* x, int64_t n, int64_t k, int32_t* out);

}  // namespace dseek::ops

namespace dseek::ops {
// out[i] = row ids[i] of the table as f32 (embedding lookup).
void get_rows(const Tensor& table, const int32_t* ids, int64_t n, float* out);
}  // namespace dseek::ops
