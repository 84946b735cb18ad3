// The trainable state of a model: every tensor under its Hugging Face name,
// as f32 values with a gradient of the same shape beside them. The trainer
// keeps master weights in f32 whatever the checkpoint's storage type.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dseek::train {

struct Param {
  std::string name;             // e.g. "model.layers.3.self_attn.kv_b_proj.weight"
  std::vector<int64_t> shape;   // outermost first
  std::vector<float> value;
  std::vector<float> grad;      // empty for buffers (not trained)
  bool trainable = true;        // false: a buffer such as e_score_correction_bias
  bool weight_decay = true;     // AdamW decays matrices, not norms or biases

  int64_t numel() const { return static_cast<int64_t>(value.size()); }
  float* data() { return value.data(); }
  const float* data() const { return value.data(); }
  float* g() { return grad.data(); }
};

class ParamStore {
 public:
  // Adds a zero tensor; names are unique (a duplicate is an internal error).
  Param* add(const std::string& name, std::vector<int64_t> shape, bool trainable = true, bool weight_decay = true);
  Param* find(const std::string& name);
  const Param* find(const std::string& name) const;

  std::vector<Param*> all();
  std::vector<const Param*> all() const;
  int64_t trainable_count() const;  // elements of trainable tensors
  void zero_grad();

 private:
  std::vector<std::unique_ptr<Param>> params_;
};

}  // namespace dseek::train
