#include "model/moe_gate.h"

#include "kernels/ops.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace dseek {

void route_token(const MoeConfig& cfg, const float* logits, const float* bias, int32_t* experts,
                 float* weights, RouteScratch& s) {
  const int64_t n = cfg.n_routed_experts;
  const int64_t k = cfg.num_experts_per_tok;
  s.scores.assign(logits, logits + n);
  if (cfg.scoring_func == ScoringFunc::kSoftmax) {
    const float max_logit = *std::max_element(s.scores.begin(), s.scores.end());
    double total = 0.0;
    for (float& v : s.scores) {
      v = std::exp(v - max_logit);
      total += v;
    }
    for (float& v : s.scores) v = static_cast<float>(v / total);
  } else {
    for (float& v : s.scores) v = 1.0f / (1.0f + std::exp(-v));
  }

  // The values experts are chosen by; the bias moves choices, never weights.
  s.choice = s.scores;
  if (bias && cfg.topk_method == TopkMethod::kNoauxTc)
    for (int64_t e = 0; e < n; ++e) s.choice[e] += bias[e];

  constexpr float kExcluded = -std::numeric_limits<float>::infinity();
  if (cfg.topk_method != TopkMethod::kGreedy && cfg.n_group > 1) {
    const int64_t per_group = n / cfg.n_group;
    s.group_score.assign(static_cast<size_t>(cfg.n_group), 0.0f);
    for (int64_t g = 0; g < cfg.n_group; ++g) {
      const float* group = s.choice.data() + g * per_group;
      if (cfg.topk_method == TopkMethod::kGroupLimitedGreedy) {
        s.group_score[g] = *std::max_element(group, group + per_group);
      } else {  // noaux_tc: sum of the two best
        float best = kExcluded, second = kExcluded;
        for (int64_t i = 0; i < per_group; ++i) {
          if (group[i] > best) {
            second = best;
            best = group[i];
          } else if (group[i] > second) {
            second = group[i];
          }
        }
        s.group_score[g] = best + second;
      }
    }
    s.order.resize(static_cast<size_t>(cfg.topk_group));
    ops::topk(s.group_score.data(), cfg.n_group, cfg.topk_group, s.order.data());
    std::vector<bool> kept(static_cast<size_t>(cfg.n_group), false);
    for (int32_t g : s.order) kept[g] = true;
    for (int64_t g = 0; g < cfg.n_group; ++g)
      if (!kept[g]) std::fill(s.choice.begin() + g * per_group, s.choice.begin() + (g + 1) * per_group, kExcluded);
  }

  s.order.resize(static_cast<size_t>(k));
  ops::topk(s.choice.data(), n, k, s.order.data());
  double total = 0.0;
  for (int64_t i = 0; i < k; ++i) {
    experts[i] = s.order[i];
    weights[i] = s.scores[s.order[i]];
    total += weights[i];
  }
  if (cfg.norm_topk_prob && k > 1)
    for (int64_t i = 0; i < k; ++i) weights[i] = static_cast<float>(weights[i] / (total + 1e-20));
  for (int64_t i = 0; i < k; ++i) weights[i] = static_cast<float>(weights[i] * cfg.routed_scaling_factor);
}

}  // namespace dseek
