// Where the committed test data is, and readers for the golden files that
// tools/reference writes (see tools/reference/README.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dseek::testing {

// Absolute path of a file or folder under the repository root.
std::string repo_path(const std::string& relative);

struct Golden {
  std::string model_path;          // absolute
  std::vector<int32_t> tokens;     // the prompt
  std::vector<int32_t> greedy;     // the reference's greedy continuation
  int64_t rows = 0, cols = 0;      // logits: rows = positions, cols = vocab
  std::vector<float> logits;       // row-major
};

// Reads tests/golden/<name>/golden.json and logits.bin; aborts the test on a
// malformed file (the data is ours, so that is a bug, not input).
Golden read_golden(const std::string& name);

// Raw little-endian float32 file of a known size.
std::vector<float> read_f32_file(const std::string& path);
// "1,2,3\n" -> ids.
std::vector<int32_t> read_id_list(const std::string& path);

}  // namespace dseek::testing
