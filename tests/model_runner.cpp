#include "model_runner.h"

#include <gtest/gtest.h>

#include <cmath>

#include "model/architectures.h"

namespace dseek::testing {

LoadedModel load_or_fail(const std::string& path, MlaMode mode, int threads) {
  LoadedModel m;
  m.pool = std::make_unique<ThreadPool>(threads);
  LoadOptions options;
  options.pool = m.pool.get();
  options.mla_mode = mode;
  options.kv_cache_type = DType::F32;  // the suites using this check f32-engine bounds
  auto model = load_model(path, options);
  EXPECT_TRUE(model.ok()) << model.error().message;
  if (model.ok()) m.model = std::move(model.value());
  return m;
}

std::vector<float> prompt_logits(Model& model, const std::vector<int32_t>& tokens) {
  const int64_t vocab = model.config().vocab_size;
  std::vector<float> logits(tokens.size() * static_cast<size_t>(vocab));
  auto cache = model.new_cache(static_cast<int64_t>(tokens.size()));
  SequenceInput input{cache.get(), tokens, true, logits.data()};
  Status s = model.forward(std::span<SequenceInput>(&input, 1));
  EXPECT_TRUE(s.ok()) << s.error().message;
  return logits;
}

Deviation deviation(const std::vector<float>& a, const std::vector<float>& b) {
  Deviation d;
  EXPECT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    d.max_abs_diff = std::max(d.max_abs_diff, std::fabs(static_cast<double>(a[i]) - b[i]));
    d.max_abs_ref = std::max(d.max_abs_ref, std::fabs(static_cast<double>(b[i])));
  }
  return d;
}

}  // namespace dseek::testing
