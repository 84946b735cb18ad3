// Writing safetensors files (the trainer's checkpoints): an 8-byte
// little-endian header length, the JSON header padded with spaces to a
// multiple of 8, then every tensor's bytes back to back in the order given.
// Tensors are converted from f32 to the requested storage type on the way
// out. The file is written under a temporary name and renamed into place, so
// a crash never leaves a half-written checkpoint behind the real name.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "util/result.h"
#include "weights/dtype.h"

namespace dseek {

struct TensorToWrite {
  std::string name;
  std::vector<int64_t> shape;  // outermost first; empty: a scalar
  const float* data = nullptr;  // numel values
  DType dtype = DType::F32;     // F32, BF16 or F16 (converted, round to nearest even)
};

// The bytes of a complete file (for tests and for write_safetensors).
Result<std::string> safetensors_file_bytes(const std::vector<TensorToWrite>& tensors,
                                           const std::map<std::string, std::string>& metadata);

Status write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                         const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
Status write_file_atomically(const std::string& path, const std::string& bytes);

}  // namespace dseek
