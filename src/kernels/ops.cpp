#include "kernels/ops.h"

#include <algorithm>

namespace dseek::ops {

namespace {
const kernels::KernelTable& table() { return kernels::active_table(); }
}  // namespace

void matmul(ThreadPool& pool, const Tensor& w, const float* x, int64_t n_tokens, int64_t ldx, float* y,
            int64_t ldy) {
  auto fn = table().matmul[static_cast<int>(w.dtype)];
  DSEEK_CHECK(fn != nullptr);
  // Enough rows per chunk that a chunk's work dwarfs the hand-off.
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, w.cols() * n_tokens));
  pool.parallel_for(w.rows(), grain, [&](int64_t begin, int64_t end, int) {
    fn(w, begin, end, x, n_tokens, ldx, y, ldy);
  });
}

void matmul_transposed(ThreadPool& pool, const Tensor& w, const float* x, int64_t n_tokens, int64_t ldx,
                       float* y, int64_t ldy) {
  auto fn = table().matmul_transposed[static_cast<int>(w.dtype)];
  DSEEK_CHECK(fn != nullptr);
  // Column chunks in multiples of 8 keep SIMD kernels on their fast path.
  const int64_t cols = w.cols();
  const int64_t n_chunks = (cols + 7) / 8;
  pool.parallel_for(n_chunks, std::max<int64_t>(1, 2048 / std::max<int64_t>(1, w.rows() * n_tokens)),
                    [&](int64_t begin, int64_t end, int) {
                      fn(w, begin * 8, std::min(cols, end * 8), x, n_tokens, ldx, y, ldy);
                    });
}

void attention(ThreadPool& pool, const kernels::AttentionArgs& args) {
  auto fn = table().attention;
  pool.parallel_for(args.n_tokens * args.n_heads, 1,
                    [&](int64_t begin, int64_t end, int) { fn(args, begin, end); });
}

void rmsnorm(const float* x, const float* weight, int64_t n_rows, int64_t n, float eps, float* out) {
  for (int64_t r = 0; r < n_rows; ++r) table().rmsnorm(x + r * n, weight, n, eps, out + r * n);
}

void softmax(float* x, int64_t n) { table().softmax(x, n); }

void silu_mul(const float* gate, const float* up, int64_t n, float* out) { table().silu_mul(gate, up, n, out); }

void rope(float* x, int64_t n_pairs, const float* cos, const float* sin, kernels::RopeStyle style) {
  table().rope(x, n_pairs, cos, sin, style);
}

void topk(const float* x, int64_t n, int64_t k, int32_t* out) { table().topk(x, n, k, out); }

}  // namespace dseek::ops

#include "kernels/reference/row_decode.h"

namespace dseek::ops {
void get_rows(const Tensor& table, const int32_t* ids, int64_t n, float* out) {
  // A gather: bound by memory, not arithmetic; the reference decode is enough.
  const int64_t cols = table.cols();
  for (int64_t i = 0; i < n; ++i) kernels::decode_row_reference(table, ids[i], 0, cols, out + i * cols);
}
}  // namespace dseek::ops
