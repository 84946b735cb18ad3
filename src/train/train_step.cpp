#include "train/train_step.h"

#include <cmath>

#include "train/moe.h"

namespace dseek::train {

namespace {

// The first trainable tensor whose gradient holds a NaN or infinity.
std::string nonfinite_gradient(ParamStore& params) {
  for (const Param* p : params.all())
    for (float g : p->grad)
      if (!std::isfinite(g)) return p->name;
  return "";
}

}  // namespace

StepResult train_step(ThreadPool& pool, TrainModel& model, AdamW& optimizer, const LrSchedule& schedule,
                      int64_t step, const std::vector<const int32_t*>& micro_batches, const StepSettings& s) {
  StepResult out;
  ParamStore& params = model.params();
  params.zero_grad();
  model.reset_expert_counts();
  const float scale = 1.0f / static_cast<float>(micro_batches.size());
  const double inv = 1.0 / static_cast<double>(micro_batches.size());
  const LossWeights& w = model.loss_weights();
  for (const int32_t* tokens : micro_batches) {
    Losses l = model.forward_backward(pool, tokens, s.n_seq, s.seq_len, scale);
    const double total = l.total(w);
    if (!std::isfinite(total)) {
      const std::string& where = model.nonfinite_location();
      out.error = "step " + std::to_string(step) + ": the loss is " + std::to_string(total) +
                  (where.empty() ? std::string(" (every activation was finite: the loss itself overflowed)")
                                 : "; the first non-finite value appeared in " + where);
      return out;
    }
    out.losses.main += l.main * inv;
    out.losses.mtp += l.mtp * inv;
    out.losses.balance += l.balance * inv;
    out.loss += total * inv;
  }
  for (DecoderLayer* layer : model.moe_layers()) out.expert_counts.push_back(layer->expert_counts);
  out.grad_norm = s.grad_clip > 0.0 ? clip_grad_norm(params, s.grad_clip, &pool) : global_grad_norm(params, &pool);
  if (!std::isfinite(out.grad_norm)) {
    out.error = "step " + std::to_string(step) + ": the gradient is not finite (first in " +
                nonfinite_gradient(params) + ")";
    return out;
  }
  out.lr = schedule.at(step);
  optimizer.step(out.lr, &pool);
  if (s.bias_update_speed != 0.0f)
    for (DecoderLayer* layer : model.moe_layers())
      if (layer->moe.bias) update_expert_bias(layer->expert_counts, s.bias_update_speed, layer->moe.bias->data());
  return out;
}

}  // namespace dseek::train
