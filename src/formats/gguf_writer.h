// Writes GGUF v3 files (little-endian, general.alignment 32): metadata and
// tensor descriptions first, then each tensor's bytes streamed in order, so
// a converter never holds more than the piece of a tensor it is working on.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "util/result.h"
#include "weights/dtype.h"

namespace dseek {

class GgufWriter {
 public:
  static constexpr uint64_t kAlignment = 32;

  // Metadata, in the order added (keys must be unique).
  void set_string(const std::string& key, const std::string& value);
  void set_u32(const std::string& key, uint32_t value);
  void set_i32(const std::string& key, int32_t value);
  void set_f32(const std::string& key, float value);
  void set_bool(const std::string& key, bool value);
  void set_string_array(const std::string& key, const std::vector<std::string>& values);
  void set_i32_array(const std::string& key, const std::vector<int32_t>& values);
  // Any value as read from another GGUF file (nested arrays included).
  void set_value(const std::string& key, const GgufValue& value);

  // A tensor of `dtype` with shape outermost first (dseek's order; written
  // as ggml's ne, innermost first). Returns its index for write().
  size_t add_tensor(const std::string& name, DType dtype, const std::vector<int64_t>& shape);
  uint64_t tensor_bytes(size_t index) const { return tensors_[index].n_bytes; }
  size_t n_tensors() const { return tensors_.size(); }

  // Emits the next piece of a tensor's bytes.
  using Emit = std::function<Status(const uint8_t* data, size_t n)>;
  // Produces all bytes of tensor `index` through emit (exactly tensor_bytes(index)).
  using Fill = std::function<Status(size_t index, const Emit& emit)>;

  // Writes the file (to path + ".tmp", renamed into place when complete).
  Status write(const std::string& path, const Fill& fill);

 private:
  struct TensorEntry {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    uint64_t n_bytes = 0;
    uint64_t offset = 0;  // within the data section
  };
  void key(const std::string& k, GgufType type);
  void put(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    header_.insert(header_.end(), b, b + n);
  }
  void put_u32(uint32_t v) { put(&v, 4); }
  void put_u64(uint64_t v) { put(&v, 8); }
  void put_string(std::string_view s) {
    put_u64(s.size());
    put(s.data(), s.size());
  }
  void put_value(const GgufValue& v);

  std::vector<uint8_t> header_;  // the metadata entries, serialised as they are added
  uint64_t n_kv_ = 0;
  std::vector<std::string> keys_;
  std::vector<TensorEntry> tensors_;
  uint64_t data_size_ = 0;
};

}  // namespace dseek
