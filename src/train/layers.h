// The building blocks of the training graph. Each block's forward keeps what
// its backward needs in a *Saved struct owned by the caller; backward adds
// parameter gradients into Param::grad and returns the input gradient.
#pragma once

#include <cstdint>
#include <vector>

#include "train/params.h"
#include "util/thread_pool.h"

namespace dseek::train {

using Buffer = std::vector<float>;

// y = x W^T (+ b); W [out, in].
struct Linear {
  Param* w = nullptr;
  Param* b = nullptr;  // optional bias [out]
  int64_t in = 0, out = 0;

  void forward(ThreadPool& pool, const float* x, int64_t n, float* y) const;
  // dx (+)= dy W (skipped when dx is null); dW += dy^T x; db += column sums of dy.
  void backward(ThreadPool& pool, const float* x, const float* dy, int64_t n, float* dx, bool accumulate_dx) const;
};

// RMSNorm with a learned scale.
struct Norm {
  Param* w = nullptr;
  int64_t n = 0;
  float eps = 1e-6f;
};
struct NormSaved {
  Buffer rstd;
};
void norm_forward(const Norm& norm, const float* x, int64_t rows, float* y, NormSaved& saved);
void norm_backward(const Norm& norm, const float* x, const NormSaved& saved, const float* dy, int64_t rows, float* dx,
                   bool accumulate_dx);

// down(silu(gate(x)) * up(x)).
struct SwiGlu {
  Linear gate, up, down;
  int64_t inter() const { return gate.out; }
};
struct SwiGluSaved {
  Buffer g, u, h;  // gate and up pre-activations, silu(g) * u
};
void swiglu_forward(ThreadPool& pool, const SwiGlu& m, const float* x, int64_t n, float* out, SwiGluSaved& saved);
// dx (+)= d/dx.
void swiglu_backward(ThreadPool& pool, const SwiGlu& m, const float* x, const SwiGluSaved& saved, const float* dout,
                     int64_t n, float* dx, bool accumulate_dx);

}  // namespace dseek::train
