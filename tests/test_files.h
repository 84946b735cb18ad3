// Building test inputs on disk: temporary folders, safetensors files made
// byte by byte (so tests can make them wrong on purpose), copies of model
// folders to corrupt.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dseek::testing {

// A fresh empty directory under the test temp dir, removed at exit of the process.
std::string make_temp_dir(const std::string& tag);

void write_file(const std::string& path, const std::string& bytes);
std::string read_file(const std::string& path);

struct TensorSpec {
  std::string name;
  std::string dtype;            // safetensors spelling
  std::vector<int64_t> shape;
  std::string bytes;            // raw data
};

// The header JSON object a well-formed file would carry, for tests to tamper with.
nlohmann::json safetensors_header(const std::vector<TensorSpec>& tensors);
// A file from a header (serialized as given, padded to 8 bytes) and a data blob.
std::string safetensors_bytes(const nlohmann::json& header, const std::string& data);
// A well-formed file.
std::string safetensors_bytes(const std::vector<TensorSpec>& tensors);

std::string f32_bytes(const std::vector<float>& values);

// Copies a model folder (files only) to a new temp dir and returns its path.
std::string copy_model_folder(const std::string& from, const std::string& tag);

// A llama-family checkpoint of zeros whose weights are a hole in a sparse
// file: any size, made instantly, using no disk. extra_config entries
// override config.json fields (bos/eos ids, ...).
std::string make_sparse_llama(int64_t hidden, int64_t inter, int64_t layers, int64_t vocab,
                              const nlohmann::json& extra_config = nlohmann::json::object());

}  // namespace dseek::testing
