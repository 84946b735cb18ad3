#include "train/optimizer.h"

#include <algorithm>
#include <cmath>

namespace dseek::train {

AdamW::AdamW(ParamStore& params, AdamWSettings settings) : settings_(settings) {
  for (Param* p : params.all()) {
    if (!p->trainable) continue;
    state_.push_back({p, std::vector<float>(p->value.size(), 0.0f), std::vector<float>(p->value.size(), 0.0f)});
  }
}

std::vector<AdamW::Moments> AdamW::moments() {
  std::vector<Moments> out;
  for (State& s : state_) out.push_back({&s.m, &s.v, s.param});
  return out;
}

void AdamW::step(double lr) {
  ++step_;
  const double b1 = settings_.beta1, b2 = settings_.beta2;
  const double bc1 = 1.0 - std::pow(b1, static_cast<double>(step_));
  const double bc2_sqrt = std::sqrt(1.0 - std::pow(b2, static_cast<double>(step_)));
  const float step_size = static_cast<float>(lr / bc1);
  const float inv_bc2_sqrt = static_cast<float>(1.0 / bc2_sqrt);
  const float eps = static_cast<float>(settings_.eps);
  const float fb1 = static_cast<float>(b1), fb2 = static_cast<float>(b2);
  const float one_b1 = static_cast<float>(1.0 - b1), one_b2 = static_cast<float>(1.0 - b2);
  for (State& s : state_) {
    Param& p = *s.param;
    const float decay = p.weight_decay ? static_cast<float>(1.0 - lr * settings_.weight_decay) : 1.0f;
    const int64_t n = p.numel();
    float* w = p.value.data();
    const float* g = p.grad.data();
    float* m = s.m.data();
    float* v = s.v.data();
    for (int64_t i = 0; i < n; ++i) {
      w[i] *= decay;
      m[i] = m[i] * fb1 + g[i] * one_b1;
      v[i] = v[i] * fb2 + g[i] * g[i] * one_b2;
      const float denom = std::sqrt(v[i]) * inv_bc2_sqrt + eps;
      w[i] -= step_size * m[i] / denom;
    }
  }
}

double LrSchedule::at(int64_t step) const {
  if (step < warmup) return lr * static_cast<double>(step + 1) / static_cast<double>(warmup);
  const int64_t span = std::max<int64_t>(1, total - warmup - 1);
  const double progress = std::min(1.0, static_cast<double>(step - warmup) / static_cast<double>(span));
  return min_lr + 0.5 * (lr - min_lr) * (1.0 + std::cos(M_PI * progress));
}

double global_grad_norm(const ParamStore& params) {
  double sum = 0.0;
  for (const Param* p : params.all())
    for (float g : p->grad) sum += static_cast<double>(g) * g;
  return std::sqrt(sum);
}

double clip_grad_norm(ParamStore& params, double max_norm) {
  const double norm = global_grad_norm(params);
  const double coef = max_norm / (norm + 1e-6);
  if (coef < 1.0) {
    const float c = static_cast<float>(coef);
    for (Param* p : params.all())
      for (float& g : p->grad) g *= c;
  }
  return norm;
}

}  // namespace dseek::train
