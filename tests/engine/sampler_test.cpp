// Each logit processor on hand-computed distributions, and the draw itself
// against a known distribution (chi-square, fixed seed).
#include "engine/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

namespace dseek {
namespace {

std::vector<Candidate> candidates(const std::vector<float>& logits) {
  std::vector<Candidate> c;
  for (size_t i = 0; i < logits.size(); ++i) c.push_back({static_cast<int32_t>(i), logits[i]});
  return c;
}

std::set<int32_t> ids(const std::vector<Candidate>& c) {
  std::set<int32_t> s;
  for (const auto& x : c) s.insert(x.id);
  return s;
}

float log_of(double p) { return static_cast<float>(std::log(p)); }

TEST(Sampling, RepetitionPenaltyDividesPositiveAndMultipliesNegative) {
  SamplingParams p;
  p.repetition_penalty = 2.0;
  auto c = candidates({4.0f, -1.0f, 3.0f});
  std::vector<int32_t> prompt = {0}, output = {1};
  sampling::apply_penalties(c, p, prompt, output);
  EXPECT_FLOAT_EQ(c[0].logit, 2.0f);
  EXPECT_FLOAT_EQ(c[1].logit, -2.0f);
  EXPECT_FLOAT_EQ(c[2].logit, 3.0f);
}

TEST(Sampling, FrequencyAndPresencePenaltiesCountOutputTokensOnly) {
  SamplingParams p;
  p.frequency_penalty = 0.5;
  p.presence_penalty = 0.25;
  auto c = candidates({1.0f, 1.0f, 1.0f});
  std::vector<int32_t> prompt = {2, 2, 2}, output = {0, 0, 0, 1};
  sampling::apply_penalties(c, p, prompt, output);
  EXPECT_FLOAT_EQ(c[0].logit, 1.0f - 3 * 0.5f - 0.25f);
  EXPECT_FLOAT_EQ(c[1].logit, 1.0f - 0.5f - 0.25f);
  EXPECT_FLOAT_EQ(c[2].logit, 1.0f);  // the prompt does not count
}

TEST(Sampling, TemperatureScalesLogits) {
  auto c = candidates({2.0f, -4.0f});
  sampling::apply_temperature(c, 0.5);
  EXPECT_FLOAT_EQ(c[0].logit, 4.0f);
  EXPECT_FLOAT_EQ(c[1].logit, -8.0f);
}

TEST(Sampling, TopKKeepsTheKBest) {
  auto c = candidates({0.1f, 3.0f, 2.0f, 2.5f, -1.0f});
  sampling::keep_top_k(c, 2);
  EXPECT_EQ(ids(c), (std::set<int32_t>{1, 3}));
  auto all = candidates({0.1f, 3.0f});
  sampling::keep_top_k(all, 0);
  EXPECT_EQ(all.size(), 2u);
}

TEST(Sampling, TopPKeepsTheSmallestNucleus) {
  // p = 0.5, 0.3, 0.15, 0.05
  auto base = candidates({log_of(0.15), log_of(0.5), log_of(0.05), log_of(0.3)});
  auto c = base;
  sampling::keep_top_p(c, 0.8);  // 0.5 + 0.3 reaches 0.8
  EXPECT_EQ(ids(c), (std::set<int32_t>{1, 3}));
  c = base;
  sampling::keep_top_p(c, 0.81);
  EXPECT_EQ(ids(c), (std::set<int32_t>{0, 1, 3}));
  c = base;
  sampling::keep_top_p(c, 0.1);  // never empty
  EXPECT_EQ(ids(c), (std::set<int32_t>{1}));
}

TEST(Sampling, MinPDropsTokensBelowAFractionOfTheBest) {
  auto c = candidates({log_of(0.5), log_of(0.3), log_of(0.15), log_of(0.05)});
  sampling::keep_min_p(c, 0.25);  // threshold 0.125
  EXPECT_EQ(ids(c), (std::set<int32_t>{0, 1, 2}));
  sampling::keep_min_p(c, 0.7);  // threshold 0.35
  EXPECT_EQ(ids(c), (std::set<int32_t>{0}));
}

TEST(Sampling, ProbabilitiesAreTheSoftmax) {
  auto p = sampling::probabilities(candidates({log_of(0.2), log_of(0.8)}));
  EXPECT_NEAR(p[0], 0.2, 1e-7);
  EXPECT_NEAR(p[1], 0.8, 1e-7);
}

TEST(Sampler, GreedyAtTemperatureZero) {
  SamplingParams p;
  p.temperature = 0;
  Sampler s(p);
  std::vector<float> logits = {1.0f, 5.0f, 5.0f, 2.0f};
  EXPECT_EQ(s.sample(logits, {}, {}), 1);  // ties: lowest id
  // Penalties still apply before the argmax: token 1 was said already.
  p.presence_penalty = 0.5;
  Sampler penalized(p);
  const std::vector<int32_t> said = {1};
  EXPECT_EQ(penalized.sample(logits, {}, said), 2);
}

TEST(Sampler, DrawsFollowTheDistribution) {
  // Chi-square goodness of fit, 5 degrees of freedom: critical value 20.52
  // at significance 0.001. The seed is fixed, so the test is deterministic.
  const std::vector<double> p = {0.4, 0.25, 0.15, 0.1, 0.07, 0.03};
  std::vector<float> logits;
  for (double v : p) logits.push_back(log_of(v));
  SamplingParams params;
  params.seed = 20241125;
  Sampler s(params);
  const int n = 20000;
  std::vector<int> counts(p.size(), 0);
  for (int i = 0; i < n; ++i) ++counts[s.sample(logits, {}, {})];
  double chi2 = 0;
  for (size_t i = 0; i < p.size(); ++i) chi2 += std::pow(counts[i] - n * p[i], 2) / (n * p[i]);
  std::printf("chi-square %.2f (critical 20.52)\n", chi2);
  EXPECT_LT(chi2, 20.52);
  // A sampler that ignored the distribution would fail: uniform draws give chi2 in the thousands.
}

TEST(Sampler, TemperatureAndTopKShapeTheDraws) {
  std::vector<float> logits = {log_of(0.5), log_of(0.3), log_of(0.2)};
  SamplingParams params;
  params.top_k = 2;
  params.temperature = 2.0;  // p ~ sqrt: 0.5^.5 : 0.3^.5 = 0.5635 : 0.4365 after top-2
  params.seed = 7;
  Sampler s(params);
  int first = 0, n = 20000;
  for (int i = 0; i < n; ++i) {
    int32_t t = s.sample(logits, {}, {});
    ASSERT_NE(t, 2);
    first += t == 0;
  }
  const double expected = std::sqrt(0.5) / (std::sqrt(0.5) + std::sqrt(0.3));
  EXPECT_NEAR(static_cast<double>(first) / n, expected, 0.015);
}

TEST(Sampler, SameSeedSameOutputDifferentSeedDifferentOutput) {
  std::vector<float> logits(50);
  for (int i = 0; i < 50; ++i) logits[i] = static_cast<float>(std::sin(i));
  auto draw = [&](uint64_t seed) {
    SamplingParams p;
    p.seed = seed;
    Sampler s(p);
    std::vector<int32_t> out;
    for (int i = 0; i < 64; ++i) out.push_back(s.sample(logits, {}, {}));
    return out;
  };
  EXPECT_EQ(draw(42), draw(42));
  EXPECT_NE(draw(42), draw(43));
}

TEST(SamplingParams, RefusesAbsurdValuesNamingThem) {
  auto check = [](SamplingParams p, const std::string& name) {
    Status s = p.validate();
    ASSERT_FALSE(s.ok()) << name;
    EXPECT_EQ(s.error().message.rfind(name, 0), 0u) << s.error().message;
  };
  SamplingParams p;
  EXPECT_TRUE(p.validate().ok());
  p.temperature = -1;
  check(p, "temperature");
  p = {};
  p.temperature = NAN;
  check(p, "temperature");
  p = {};
  p.top_p = 0;
  check(p, "top_p");
  p = {};
  p.min_p = 2;
  check(p, "min_p");
  p = {};
  p.frequency_penalty = 3;
  check(p, "frequency_penalty");
  p = {};
  p.presence_penalty = -2.5;
  check(p, "presence_penalty");
  p = {};
  p.top_k = -1;
  check(p, "top_k");
  p = {};
  p.repetition_penalty = 0;
  check(p, "repetition_penalty");
}

}  // namespace
}  // namespace dseek
