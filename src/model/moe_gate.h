// DeepSeekMoE routing: which routed experts a token goes to, and with what
// weights. Scores are softmax (V2) or sigmoid (V3) of the router logits;
// V3 adds e_score_correction_bias for the choice only; groups of experts are
// ranked by their best score (group_limited_greedy) or by the sum of their
// top-2 biased scores (noaux_tc) and only topk_group groups stay eligible.
#pragma once

#include <cstdint>
#include <vector>

#include "model/config.h"

namespace dseek {

struct RouteScratch {
  std::vector<float> scores, choice, group_score;
  std::vector<int32_t> order;
};

// logits: [n_routed_experts]; bias: [n_routed_experts] or nullptr.
// Writes num_experts_per_tok expert ids and weights.
void route_token(const MoeConfig& cfg, const float* logits, const float* bias, int32_t* experts,
                 float* weights, RouteScratch& scratch);

}  // namespace dseek
