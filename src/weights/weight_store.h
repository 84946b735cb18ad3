// All tensors of a checkpoint by name, with the file mappings that back them.
// Formats (safetensors folders, GGUF) fill it; model builders take tensors out
// by name and the store remembers which were used, so leftovers can be named.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "util/mapped_file.h"
#include "util/result.h"
#include "weights/tensor.h"

namespace dseek {

class WeightStore {
 public:
  void add_mapping(std::shared_ptr<MappedFile> mapping) { mappings_.push_back(std::move(mapping)); }
  // Fails on a duplicate name.
  Status add(Tensor tensor, const std::string& source);

  bool contains(const std::string& name) const { return tensors_.count(name) != 0; }
  // The tensor, marked used; an error naming it (and `where_`) if absent.
  Result<Tensor> take(const std::string& name);
  // As take(), but an absent tensor gives an invalid Tensor instead of an error.
  Tensor take_optional(const std::string& name);

  std::vector<std::string> unused_names() const;
  size_t size() const { return tensors_.size(); }
  int64_t total_bytes() const;
  const std::map<std::string, Tensor>& all() const { return tensors_; }

  void set_description(std::string where) { where_ = std::move(where); }
  const std::string& description() const { return where_; }

 private:
  std::vector<std::shared_ptr<MappedFile>> mappings_;
  std::map<std::string, Tensor> tensors_;
  std::set<std::string> used_;
  std::string where_;
};

}  // namespace dseek
