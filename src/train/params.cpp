#include "train/params.h"

#include <algorithm>

#include "util/result.h"

namespace dseek::train {

Param* ParamStore::add(const std::string& name, std::vector<int64_t> shape, bool trainable, bool weight_decay) {
  DSEEK_CHECK(find(name) == nullptr);
  auto p = std::make_unique<Param>();
  p->name = name;
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  p->shape = std::move(shape);
  p->value.assign(static_cast<size_t>(n), 0.0f);
  if (trainable) p->grad.assign(static_cast<size_t>(n), 0.0f);
  p->trainable = trainable;
  p->weight_decay = trainable && weight_decay;
  params_.push_back(std::move(p));
  return params_.back().get();
}

Param* ParamStore::find(const std::string& name) {
  for (auto& p : params_)
    if (p->name == name) return p.get();
  return nullptr;
}

const Param* ParamStore::find(const std::string& name) const {
  for (const auto& p : params_)
    if (p->name == name) return p.get();
  return nullptr;
}

std::vector<Param*> ParamStore::all() {
  std::vector<Param*> out;
  for (auto& p : params_) out.push_back(p.get());
  return out;
}

std::vector<const Param*> ParamStore::all() const {
  std::vector<const Param*> out;
  for (const auto& p : params_) out.push_back(p.get());
  return out;
}

int64_t ParamStore::trainable_count() const {
  int64_t n = 0;
  for (const auto& p : params_)
    if (p->trainable) n += p->numel();
  return n;
}

void ParamStore::zero_grad() {
  for (auto& p : params_) std::fill(p->grad.begin(), p->grad.end(), 0.0f);
}

}  // namespace dseek::train
