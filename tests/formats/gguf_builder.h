// Writes GGUF bytes field by field, so tests can make valid files and every
// kind of broken one (wrong counts, lengths, types, offsets) on purpose.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace dseek::testing {

class GgufBuilder {
 public:
  std::vector<uint8_t> bytes;

  GgufBuilder& raw(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    bytes.insert(bytes.end(), b, b + n);
    return *this;
  }
  GgufBuilder& u8(uint8_t v) { return raw(&v, 1); }
  GgufBuilder& u32(uint32_t v) { return raw(&v, 4); }
  GgufBuilder& u64(uint64_t v) { return raw(&v, 8); }
  GgufBuilder& f32(float v) { return raw(&v, 4); }
  GgufBuilder& str(const std::string& s) { return u64(s.size()).raw(s.data(), s.size()); }

  // Header: magic, version, tensor count, metadata count.
  GgufBuilder& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    return raw("GGUF", 4).u32(version).u64(n_tensors).u64(n_kv);
  }
  GgufBuilder& kv_u32(const std::string& key, uint32_t v) { return str(key).u32(4).u32(v); }
  GgufBuilder& kv_str(const std::string& key, const std::string& v) { return str(key).u32(8).str(v); }
  GgufBuilder& kv_f32(const std::string& key, float v) { return str(key).u32(6).f32(v); }
  GgufBuilder& tensor_info(const std::string& name, std::vector<uint64_t> ne, uint32_t type, uint64_t offset) {
    str(name).u32(static_cast<uint32_t>(ne.size()));
    for (uint64_t d : ne) u64(d);
    return u32(type).u64(offset);
  }
  // Zero padding up to the next multiple of `alignment`.
  GgufBuilder& pad(size_t alignment = 32) {
    while (bytes.size() % alignment != 0) bytes.push_back(0);
    return *this;
  }
  GgufBuilder& zeros(size_t n) {
    bytes.resize(bytes.size() + n, 0);
    return *this;
  }
};

}  // namespace dseek::testing
