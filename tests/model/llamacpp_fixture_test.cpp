// The engine on the Hugging Face twins of llama.cpp's micro models
// (tests/data/llamacpp, see its README) against the logits llama.cpp computed
// for the identical weights in GGUF: a second, independent reference.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/greedy.h"
#include "model/tolerances.h"
#include "model_runner.h"
#include "test_data.h"

namespace dseek {
namespace {

class LlamaCppFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(LlamaCppFixture, HfTwinMatchesLlamaCppF32Tier) {
  const std::string dir = testing::repo_path("tests/data/llamacpp/" + GetParam());
  std::vector<int32_t> tokens = testing::read_id_list(dir + "/tokens.txt");
  std::vector<float> reference = testing::read_f32_file(dir + "/logits-llamacpp-f32gguf.f32");
  testing::LoadedModel m = testing::load_or_fail(dir + "/hf");
  ASSERT_TRUE(m.model);
  const int64_t vocab = m.vocab();
  ASSERT_EQ(reference.size(), tokens.size() * static_cast<size_t>(vocab));
  std::vector<float> logits = testing::prompt_logits(*m.model, tokens);

  double worst_rel_rms = 0, worst_cos = 1, worst_kl = 0;
  for (size_t p = 0; p < tokens.size(); ++p) {
    const float* a = logits.data() + p * vocab;
    const float* b = reference.data() + p * vocab;
    double diff2 = 0, ref2 = 0, dot = 0, a2 = 0;
    double max_a = -1e300, max_b = -1e300;
    int64_t top_a = 0, top_b = 0;
    for (int64_t i = 0; i < vocab; ++i) {
      diff2 += (a[i] - b[i]) * static_cast<double>(a[i] - b[i]);
      ref2 += static_cast<double>(b[i]) * b[i];
      a2 += static_cast<double>(a[i]) * a[i];
      dot += static_cast<double>(a[i]) * b[i];
      if (a[i] > max_a) max_a = a[i], top_a = i;
      if (b[i] > max_b) max_b = b[i], top_b = i;
    }
    // KL(reference || engine) of the softmax over the vocabulary.
    double za = 0, zb = 0;
    for (int64_t i = 0; i < vocab; ++i) za += std::exp(a[i] - max_a), zb += std::exp(b[i] - max_b);
    double kl = 0;
    for (int64_t i = 0; i < vocab; ++i) {
      const double pb = std::exp(b[i] - max_b) / zb, pa = std::exp(a[i] - max_a) / za;
      kl += pb * (std::log(pb) - std::log(pa));
    }
    double second_b = -1e300;
    for (int64_t i = 0; i < vocab; ++i)
      if (i != top_b) second_b = std::max(second_b, static_cast<double>(b[i]));
    if (max_b - second_b >= testing::kFixtureTop1Margin) EXPECT_EQ(top_a, top_b) << "position " << p;
    worst_rel_rms = std::max(worst_rel_rms, std::sqrt(diff2 / ref2));
    worst_cos = std::min(worst_cos, dot / std::sqrt(a2 * ref2));
    worst_kl = std::max(worst_kl, kl);
  }
  std::printf("%s: worst rel RMS %.3g, worst cos 1-%.3g, worst KL %.3g\n", GetParam().c_str(), worst_rel_rms,
              1 - worst_cos, worst_kl);
  EXPECT_LE(worst_rel_rms, testing::kFixtureMaxRelRms);
  EXPECT_GE(worst_cos, testing::kFixtureMinCos);
  EXPECT_LE(worst_kl, testing::kFixtureMaxKl);

  std::vector<int32_t> expected_greedy = testing::read_id_list(dir + "/greedy-llamacpp.txt");
  auto cache = m.model->new_cache(static_cast<int64_t>(tokens.size() + expected_greedy.size()));
  auto greedy = generate_greedy(*m.model, *cache, tokens, static_cast<int64_t>(expected_greedy.size()));
  ASSERT_TRUE(greedy.ok()) << greedy.error().message;
  EXPECT_EQ(greedy.value(), expected_greedy);
}

INSTANTIATE_TEST_SUITE_P(Micro, LlamaCppFixture,
                         ::testing::Values("deepseek2-v2-micro", "deepseek2-v3-micro", "deepseek2-v3-micro-fp8",
                                           "llama-micro", "qwen2-micro"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

}  // namespace
}  // namespace dseek
