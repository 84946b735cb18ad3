// safetensors: 8-byte little-endian header length N, N bytes of JSON naming
// each tensor's dtype, shape and [begin, end) byte range in the data region
// that follows. The parser trusts nothing: every range must lie inside the
// file, match dtype x shape exactly, and tile the data region without gaps or
// overlaps (the rule of the reference implementation), before any tensor
// byte is touched.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "util/mapped_file.h"
#include "util/result.h"
#include "weights/tensor.h"

namespace dseek {

struct SafetensorsEntry {
  std::string name;
  DType dtype;
  int rank;
  std::array<int64_t, 4> shape;
  uint64_t offset;  // from the start of the file
  uint64_t n_bytes;
};

struct SafetensorsHeader {
  std::vector<SafetensorsEntry> entries;  // in file order (by offset)
  std::map<std::string, std::string> metadata;
};

// Validates the header of a complete safetensors file held in [data, data+size).
// `source` names the file in error messages.
Result<SafetensorsHeader> parse_safetensors(const uint8_t* data, size_t size,
                                            const std::string& source);

struct SafetensorsFile {
  std::shared_ptr<MappedFile> mapping;
  std::vector<Tensor> tensors;  // views into the mapping
  std::map<std::string, std::string> metadata;
};

Result<SafetensorsFile> open_safetensors(const std::string& path);

}  // namespace dseek
