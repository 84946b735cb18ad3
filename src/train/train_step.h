// One optimizer step as the trainer takes it: the micro-batches' gradients
// averaged (gradient accumulation), clipped to a global norm, an AdamW
// update at the scheduled learning rate, then the auxiliary-loss-free bias
// update of every MoE layer from the step's token counts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "train/optimizer.h"
#include "train/train_model.h"

namespace dseek::train {

struct StepSettings {
  int64_t n_seq = 1;              // sequences per micro-batch
  int64_t seq_len = 1;            // tokens per sequence (each micro-batch row holds seq_len + 1 ids)
  double grad_clip = 1.0;         // <= 0: no clipping
  float bias_update_speed = 0.0f; // gamma of the bias rule; 0: off
};

struct StepResult {
  Losses losses;            // means over the micro-batches
  double loss = 0.0;        // their total (main + lambda * mtp + balance)
  double grad_norm = 0.0;   // before clipping
  double lr = 0.0;
  // Per MoE layer: tokens per routed expert in this step.
  std::vector<std::vector<int64_t>> expert_counts;
  // Non-empty when the loss or a gradient was not finite: the step, where
  // it first appeared; the update was not applied.
  std::string error;
};

// micro_batches: each n_seq * (seq_len + 1) ids.
StepResult train_step(ThreadPool& pool, TrainModel& model, AdamW& optimizer, const LrSchedule& schedule,
                      int64_t step, const std::vector<const int32_t*>& micro_batches, const StepSettings& settings);

}  // namespace dseek::train
