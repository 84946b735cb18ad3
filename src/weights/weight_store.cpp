#include "weights/weight_store.h"

namespace dseek {

Status WeightStore::add(Tensor tensor, const std::string& source) {
  std::string name = tensor.name;
  if (!tensors_.emplace(name, std::move(tensor)).second)
    return Error{source + ": tensor '" + name + "' appears twice in the checkpoint"};
  return ok_status();
}

Result<Tensor> WeightStore::take(const std::string& name) {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) return Error{where_ + ": missing tensor '" + name + "'"};
  used_.insert(name);
  return it->second;
}

Tensor WeightStore::take_optional(const std::string& name) {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) return Tensor{};
  used_.insert(name);
  return it->second;
}

std::vector<std::string> WeightStore::unused_names() const {
  std::vector<std::string> names;
  for (const auto& [name, t] : tensors_)
    if (!used_.count(name)) names.push_back(name);
  return names;
}

int64_t WeightStore::total_bytes() const {
  int64_t n = 0;
  for (const auto& [name, t] : tensors_) n += t.n_bytes;
  return n;
}

}  // namespace dseek
