#include "train/optimizer.h"

#include <algorithm>
#include <cmath>
#include <vector>

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

void AdamW::step(double lr, ThreadPool* pool) {
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
    float* w = p.value.data();
    const float* g = p.grad.data();
    float* m = s.m.data();
    float* v = s.v.data();
    auto update = [&](int64_t begin, int64_t end, int) {
      for (int64_t i = begin; i < end; ++i) {
        w[i] *= decay;
        m[i] = m[i] * fb1 + g[i] * one_b1;
        v[i] = v[i] * fb2 + g[i] * g[i] * one_b2;
        const float denom = std::sqrt(v[i]) * inv_bc2_sqrt + eps;
        w[i] -= step_size * m[i] / denom;
      }
    };
    if (pool) pool->parallel_for(p.numel(), 1 << 15, update);
    else update(0, p.numel(), 0);
  }
}

double LrSchedule::at(int64_t step) const {
  if (step < warmup) return lr * static_cast<double>(step + 1) / static_cast<double>(warmup);
  const int64_t span = std::max<int64_t>(1, total - warmup - 1);
  const double progress = std::min(1.0, static_cast<double>(step - warmup) / static_cast<double>(span));
  return min_lr + 0.5 * (lr - min_lr) * (1.0 + std::cos(M_PI * progress));
}

double global_grad_norm(const ParamStore& params, ThreadPool* pool) {
  constexpr int64_t kChunk = 1 << 15;
  double sum = 0.0;
  std::vector<double> partial;
  for (const Param* p : params.all()) {
    const int64_t n = static_cast<int64_t>(p->grad.size());
    const float* g = p->grad.data();
    const int64_t chunks = (n + kChunk - 1) / kChunk;
    partial.assign(static_cast<size_t>(chunks), 0.0);
    auto body = [&](int64_t begin, int64_t end, int) {
      for (int64_t c = begin; c < end; ++c) {
        double s = 0.0;
        for (int64_t i = c * kChunk; i < std::min(n, (c + 1) * kChunk); ++i) s += static_cast<double>(g[i]) * g[i];
        partial[c] = s;
      }
    };
    if (pool) pool->parallel_for(chunks, 1, body);
    else body(0, chunks, 0);
    for (double s : partial) sum += s;
  }
  return std::sqrt(sum);
}

double clip_grad_norm(ParamStore& params, double max_norm, ThreadPool* pool) {
  const double norm = global_grad_norm(params, pool);
  const double coef = max_norm / (norm + 1e-6);
  if (coef < 1.0) {
    const float c = static_cast<float>(coef);
    for (Param* p : params.all()) {
      float* g = p->grad.data();
      auto body = [&](int64_t begin, int64_t end, int) {
        for (int64_t i = begin; i < end; ++i) g[i] *= c;
      };
      if (pool) pool->parallel_for(static_cast<int64_t>(p->grad.size()), 1 << 15, body);
      else body(0, static_cast<int64_t>(p->grad.size()), 0);
    }
  }
  return norm;
}

}  // namespace dseek::train
