// Dense f32 matrix products for training: C = op(A) op(B) (or C +=), with
// op = identity or transpose. A linear layer's weight is [out, in] as in the
// checkpoints, so the three products of a linear layer are
//   forward   Y  = X  W^T   gemm(kNo,  kYes)
//   backward  dX = dY W     gemm(kNo,  kNo)
//             dW += dY^T X  gemm(kYes, kNo, accumulate)
// The inference kernels (kernels/ops.h) multiply by typed weights a few
// tokens at a time; training multiplies f32 by f32 over thousands of tokens,
// which wants packed panels and a register-blocked micro-kernel instead.
// As with every kernel, the optimized table has a scalar twin, and
// tests/train/gemm_test.cpp compares them.
#pragma once

#include <cstdint>
#include <vector>

#include "util/thread_pool.h"

namespace dseek::train {

enum class Trans : uint8_t { kNo, kYes };

struct GemmArgs {
  Trans ta = Trans::kNo, tb = Trans::kNo;
  int64_t m = 0, n = 0, k = 0;
  const float* a = nullptr;  // op(A)[i, p] = ta == kNo ? a[i*lda + p] : a[p*lda + i]
  int64_t lda = 0;
  const float* b = nullptr;  // op(B)[p, j] = tb == kNo ? b[p*ldb + j] : b[j*ldb + p]
  int64_t ldb = 0;
  float* c = nullptr;  // c[i*ldc + j], i < m, j < n
  int64_t ldc = 0;
  bool accumulate = false;  // C += op(A) op(B) instead of C = op(A) op(B)
};

// Computes the block rows [r0, r1) x columns [c0, c1) of C. Each element is
// summed over k in the same order whatever the block, so results do not
// depend on how the work is split (same run twice = same numbers).
using GemmFn = void (*)(const GemmArgs& args, int64_t r0, int64_t r1, int64_t c0, int64_t c1);

struct GemmTable {
  const char* name = "";
  GemmFn gemm = nullptr;
};

const GemmTable& gemm_reference_table();
// Every table this CPU can run, reference first.
std::vector<const GemmTable*> gemm_runnable_tables();
// The most capable table (DSEEK_KERNELS=reference forces the scalar one).
const GemmTable& gemm_active_table();

// On the calling thread only (for use inside another parallel loop).
void gemm_serial(const GemmArgs& args);
// Spread over the pool.
void gemm(ThreadPool& pool, const GemmArgs& args);

// Shorthands for the products of a linear layer with weight W [out, in].
// y[n, out] (+)= x[n, in] W^T
void linear_forward(ThreadPool& pool, const float* x, int64_t n, int64_t in, const float* w, int64_t out,
                    float* y, bool accumulate = false);
// dx[n, in] (+)= dy[n, out] W
void linear_backward_input(ThreadPool& pool, const float* dy, int64_t n, int64_t out, const float* w, int64_t in,
                           float* dx, bool accumulate);
// dw[out, in] += dy[n, out]^T x[n, in]
void linear_backward_weight(ThreadPool& pool, const float* dy, int64_t n, int64_t out, const float* x, int64_t in,
                            float* dw);

}  // namespace dseek::train
