// Routing decisions on hand-computed cases for every gate variant.
#include "model/moe_gate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

namespace dseek {
namespace {

struct Routed {
  std::vector<int32_t> experts;
  std::vector<float> weights;
};

Routed route(const MoeConfig& cfg, const std::vector<float>& logits, const std::vector<float>* bias = nullptr) {
  Routed r;
  r.experts.resize(static_cast<size_t>(cfg.num_experts_per_tok));
  r.weights.resize(r.experts.size());
  RouteScratch scratch;
  route_token(cfg, logits.data(), bias ? bias->data() : nullptr, r.experts.data(), r.weights.data(), scratch);
  return r;
}

float weight_of(const Routed& r, int32_t expert) {
  for (size_t i = 0; i < r.experts.size(); ++i)
    if (r.experts[i] == expert) return r.weights[i];
  ADD_FAILURE() << "expert " << expert << " not chosen";
  return 0;
}

float logit(double p) { return static_cast<float>(std::log(p)); }

TEST(MoeGate, SoftmaxGreedyKeepsProbabilitiesAndScales) {
  MoeConfig cfg;
  cfg.n_routed_experts = 4;
  cfg.num_experts_per_tok = 2;
  cfg.routed_scaling_factor = 16;
  // softmax(log [1,2,3,1]) = [1,2,3,1]/7
  Routed r = route(cfg, {logit(1), logit(2), logit(3), logit(1)});
  EXPECT_EQ(std::set<int32_t>(r.experts.begin(), r.experts.end()), (std::set<int32_t>{1, 2}));
  EXPECT_NEAR(weight_of(r, 2), 16 * 3.0 / 7, 1e-5);
  EXPECT_NEAR(weight_of(r, 1), 16 * 2.0 / 7, 1e-5);
}

TEST(MoeGate, NormTopkProbRenormalises) {
  MoeConfig cfg;
  cfg.n_routed_experts = 4;
  cfg.num_experts_per_tok = 2;
  cfg.norm_topk_prob = true;
  cfg.routed_scaling_factor = 1;
  Routed r = route(cfg, {logit(1), logit(2), logit(3), logit(1)});
  EXPECT_NEAR(weight_of(r, 2), 0.6, 1e-6);
  EXPECT_NEAR(weight_of(r, 1), 0.4, 1e-6);
}

TEST(MoeGate, GroupLimitedGreedyRanksGroupsByTheirBest) {
  MoeConfig cfg;
  cfg.n_routed_experts = 6;
  cfg.num_experts_per_tok = 2;
  cfg.topk_method = TopkMethod::kGroupLimitedGreedy;
  cfg.n_group = 3;
  cfg.topk_group = 1;
  // Groups {0,1} {2,3} {4,5}. Expert 4 is the best overall, so group 2 is
  // kept alone: the second choice is 5 although 0 and 1 score higher.
  Routed r = route(cfg, {logit(4), logit(4), logit(1), logit(1), logit(6), logit(2)});
  EXPECT_EQ(std::set<int32_t>(r.experts.begin(), r.experts.end()), (std::set<int32_t>{4, 5}));
  EXPECT_NEAR(weight_of(r, 5), 2.0 / 18, 1e-6);
}

TEST(MoeGate, NoauxTcUsesBiasForChoiceOnlyAndTopTwoGroupSums) {
  MoeConfig cfg;
  cfg.n_routed_experts = 6;
  cfg.num_experts_per_tok = 2;
  cfg.topk_method = TopkMethod::kNoauxTc;
  cfg.scoring_func = ScoringFunc::kSigmoid;
  cfg.n_group = 3;
  cfg.topk_group = 1;
  cfg.norm_topk_prob = true;
  cfg.routed_scaling_factor = 2.5;
  // Sigmoid scores s; the bias lifts expert 3 so group {2,3} has the best
  // top-2 sum although expert 0 has the single best score.
  std::vector<float> logits = {3.0f, -2.0f, 1.0f, -1.0f, 0.0f, 0.0f};
  std::vector<float> bias = {0.0f, 0.0f, 0.0f, 0.9f, 0.0f, 0.0f};
  auto s = [](float x) { return 1.0 / (1.0 + std::exp(-x)); };
  // group sums: {0,1}: s(3)+s(-2) = 1.07; {2,3}: s(1)+s(-1)+0.9 = 1.9; {4,5}: 1.0
  Routed r = route(cfg, logits, &bias);
  EXPECT_EQ(std::set<int32_t>(r.experts.begin(), r.experts.end()), (std::set<int32_t>{2, 3}));
  const double total = s(1) + s(-1);
  EXPECT_NEAR(weight_of(r, 2), 2.5 * s(1) / total, 1e-5);   // unbiased scores
  EXPECT_NEAR(weight_of(r, 3), 2.5 * s(-1) / total, 1e-5);
  // Without the bias, group {0,1} leads.
  Routed plain = route(cfg, logits, nullptr);
  EXPECT_EQ(std::set<int32_t>(plain.experts.begin(), plain.experts.end()), (std::set<int32_t>{0, 1}));
}

TEST(MoeGate, BiasIgnoredUnlessNoauxTc) {
  MoeConfig cfg;
  cfg.n_routed_experts = 3;
  cfg.num_experts_per_tok = 1;
  std::vector<float> bias = {0.0f, 0.0f, 10.0f};
  Routed r = route(cfg, {2.0f, 1.0f, 0.0f}, &bias);
  EXPECT_EQ(r.experts[0], 0);
}

}  // namespace
}  // namespace dseek
