// Pieces every architecture is built from: typed weight lookup with shape
// checks, and the SwiGLU feed-forward used by dense layers, experts and
// shared experts.
#pragma once

#include <string>
#include <vector>

#include "model/config.h"
#include "util/result.h"
#include "util/thread_pool.h"
#include "weights/weight_store.h"

namespace dseek {

// `<prefix>.weight` as a [rows, cols] matrix of a computable dtype; for fp8
// weights also `<prefix>.weight_scale_inv`, checked and attached.
Result<Tensor> take_matrix(WeightStore& store, const ModelConfig& cfg, const std::string& prefix, int64_t rows,
                           int64_t cols);
// A 1-D tensor (norm weight, bias) of n elements, converted to f32: these
// are small, so the copy costs nothing and kernels get plain floats.
Result<std::vector<float>> take_vector(WeightStore& store, const std::string& name, int64_t n);

struct SwiGlu {
  Tensor gate_proj, up_proj, down_proj;

  static Result<SwiGlu> load(WeightStore& store, const ModelConfig& cfg, const std::string& prefix,
                             int64_t hidden, int64_t intermediate);
  int64_t intermediate() const { return gate_proj.rows(); }
  // out = down(silu(gate(x)) * up(x)), x and out [n_tokens][hidden].
  void forward(ThreadPool& pool, const float* x, int64_t n_tokens, float* out) const;
};

}  // namespace dseek
