// AdamW with decoupled weight decay (Loshchilov & Hutter), the learning-rate
// schedule (linear warm-up, then cosine to a floor) and global-norm gradient
// clipping, written to match torch.optim.AdamW and
// torch.nn.utils.clip_grad_norm_ step for step (tests/train compares the
// losses of 10 steps with PyTorch's).
#pragma once

#include <cstdint>
#include <vector>

#include "train/params.h"
#include "util/thread_pool.h"

namespace dseek::train {

struct AdamWSettings {
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double weight_decay = 0.1;  // applied to tensors with Param::weight_decay (matrices)
};

class AdamW {
 public:
  AdamW(ParamStore& params, AdamWSettings settings);
  // One update of every trainable tensor from its Param::grad (elements
  // are independent, so the split over threads does not change the result).
  void step(double lr, ThreadPool* pool = nullptr);
  int64_t steps_taken() const { return step_; }

  // State for checkpoints, in the order of ParamStore::all() (trainable only).
  struct Moments {
    std::vector<float>* m;
    std::vector<float>* v;
    Param* param;
  };
  std::vector<Moments> moments();
  void set_steps_taken(int64_t n) { step_ = n; }
  const AdamWSettings& settings() const { return settings_; }

 private:
  struct State {
    Param* param;
    std::vector<float> m, v;
  };
  AdamWSettings settings_;
  std::vector<State> state_;
  int64_t step_ = 0;
};

struct LrSchedule {
  double lr = 3e-4;       // peak
  double min_lr = 3e-5;   // reached at the last step
  int64_t warmup = 0;     // steps of linear warm-up (lr * (s+1) / warmup)
  int64_t total = 1;      // steps in the run
  double at(int64_t step) const;
};

// sqrt(sum of squared gradients) over trainable tensors, summed in double
// in fixed chunks (the same sum whatever the thread count).
double global_grad_norm(const ParamStore& params, ThreadPool* pool = nullptr);
// Scales all gradients by min(1, max_norm / (norm + 1e-6)); returns the norm before.
double clip_grad_norm(ParamStore& params, double max_norm, ThreadPool* pool = nullptr);

}  // namespace dseek::train
