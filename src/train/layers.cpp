#include "train/layers.h"

#include "train/gemm.h"
#include "train/train_ops.h"

namespace dseek::train {

void Linear::forward(ThreadPool& pool, const float* x, int64_t n, float* y) const {
  linear_forward(pool, x, n, in, w->data(), out, y);
  if (!b) return;
  for (int64_t t = 0; t < n; ++t)
    for (int64_t i = 0; i < out; ++i) y[t * out + i] += b->value[i];
}

void Linear::backward(ThreadPool& pool, const float* x, const float* dy, int64_t n, float* dx,
                      bool accumulate_dx) const {
  if (w->trainable) linear_backward_weight(pool, dy, n, out, x, in, w->g());
  if (b && b->trainable)
    for (int64_t t = 0; t < n; ++t)
      for (int64_t i = 0; i < out; ++i) b->grad[i] += dy[t * out + i];
  if (dx) linear_backward_input(pool, dy, n, out, w->data(), in, dx, accumulate_dx);
}

void norm_forward(const Norm& norm, const float* x, int64_t rows, float* y, NormSaved& saved) {
  saved.rstd.resize(static_cast<size_t>(rows));
  rmsnorm_forward(x, norm.w->data(), rows, norm.n, norm.eps, y, saved.rstd.data());
}

void norm_backward(const Norm& norm, const float* x, const NormSaved& saved, const float* dy, int64_t rows, float* dx,
                   bool accumulate_dx) {
  rmsnorm_backward(x, norm.w->data(), saved.rstd.data(), dy, rows, norm.n, dx, accumulate_dx,
                   norm.w->trainable ? norm.w->g() : nullptr);
}

void swiglu_forward(ThreadPool& pool, const SwiGlu& m, const float* x, int64_t n, float* out, SwiGluSaved& saved) {
  const size_t size = static_cast<size_t>(n * m.inter());
  saved.g.resize(size);
  saved.u.resize(size);
  saved.h.resize(size);
  m.gate.forward(pool, x, n, saved.g.data());
  m.up.forward(pool, x, n, saved.u.data());
  silu_mul_forward(saved.g.data(), saved.u.data(), static_cast<int64_t>(size), saved.h.data());
  m.down.forward(pool, saved.h.data(), n, out);
}

void swiglu_backward(ThreadPool& pool, const SwiGlu& m, const float* x, const SwiGluSaved& saved, const float* dout,
                     int64_t n, float* dx, bool accumulate_dx) {
  const size_t size = static_cast<size_t>(n * m.inter());
  Buffer dh(size), dg(size), du(size);
  m.down.backward(pool, saved.h.data(), dout, n, dh.data(), false);
  silu_mul_backward(saved.g.data(), saved.u.data(), dh.data(), static_cast<int64_t>(size), dg.data(), du.data());
  m.gate.backward(pool, x, dg.data(), n, dx, accumulate_dx);
  m.up.backward(pool, x, du.data(), n, dx, dx != nullptr);
}

}  // namespace dseek::train
