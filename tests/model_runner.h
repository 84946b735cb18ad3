// Loading a model and running prompts through it, for tests.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model/model.h"
#include "util/thread_pool.h"

namespace dseek::testing {

struct LoadedModel {
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<Model> model;
  int64_t vocab() const { return model->config().vocab_size; }
};

// Fails the test (and returns an empty model) when loading fails.
LoadedModel load_or_fail(const std::string& path, MlaMode mode = MlaMode::kAbsorbed, int threads = 2);

// Logits at every position of one prompt, in a single forward pass.
std::vector<float> prompt_logits(Model& model, const std::vector<int32_t>& tokens);

// Largest |a - b| and largest |b|.
struct Deviation {
  double max_abs_diff = 0;
  double max_abs_ref = 0;
  double relative() const { return max_abs_ref > 0 ? max_abs_diff / max_abs_ref : max_abs_diff; }
};
Deviation deviation(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace dseek::testing
