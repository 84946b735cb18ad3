// DeepSeekMoE for training: shared experts on every token plus num_experts_per_tok
// routed experts per token. Experts are chosen exactly as inference chooses
// them (model/moe_gate.h: e_score_correction_bias moves the choice only);
// the combine weights are the unbiased scores of the chosen experts,
// renormalised when norm_topk_prob, times routed_scaling_factor, and the
// gradient flows into the router through those weights (and through the
// optional sequence-wise balance loss of DeepSeek-V3, weight alpha).
#pragma once

#include <cstdint>
#include <vector>

#include "model/config.h"
#include "train/attention_layers.h"
#include "train/layers.h"

namespace dseek::train {

struct Moe {
  const MoeConfig* cfg = nullptr;
  int64_t hidden = 0;
  Linear gate;            // router [n_routed_experts, hidden], no bias
  Param* bias = nullptr;  // e_score_correction_bias (noaux_tc only), not trained by gradients
  std::vector<SwiGlu> experts;
  bool has_shared = false;
  SwiGlu shared;
};

struct MoeSaved {
  Buffer scores;                    // [rows][experts] after sigmoid/softmax
  std::vector<int32_t> chosen;      // [rows][k]
  Buffer weights;                   // [rows][k] combine weights
  std::vector<std::vector<int32_t>> assigned;  // per expert: row * k + slot, in row order
  std::vector<SwiGluSaved> expert_saved;
  std::vector<Buffer> expert_y;     // per expert: outputs of its assigned rows
  SwiGluSaved shared_saved;
};

// out = MoE(x). Adds each expert's token count to counts[expert]. Returns the
// sequence-wise balance loss alpha * mean over sequences of sum_i f_i P_i
// (0 when alpha is 0).
double moe_forward(ThreadPool& pool, const Moe& m, const SeqShape& shape, const float* x, float* out, MoeSaved& saved,
                   std::vector<int64_t>& counts, float balance_alpha);
// dx = d/dx (overwritten); balance_scale = alpha times the loss's gradient scale.
void moe_backward(ThreadPool& pool, const Moe& m, const SeqShape& shape, const float* x, const MoeSaved& saved,
                  const float* dout, float balance_scale, float* dx);

// The auxiliary-loss-free balancing rule of DeepSeek-V3: after a step, each
// expert's bias moves by gamma toward balance: + gamma when the expert got
// fewer tokens than the mean over experts, - gamma when it got more.
void update_expert_bias(const std::vector<int64_t>& counts, float gamma, float* bias);

// max / mean of tokens per expert (1 = perfectly balanced).
double load_imbalance(const std::vector<int64_t>& counts);

}  // namespace dseek::train
