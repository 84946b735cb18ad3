#include "test_data.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

namespace dseek::testing {

std::string repo_path(const std::string& relative) { return std::string(DSEEK_SOURCE_DIR) + "/" + relative; }

namespace {
std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot open " << path;
    return {};
  }
  return std::string(std::istreambuf_iterator<char>(in), {});
}
}  // namespace

Golden read_golden(const std::string& name) {
  const std::string dir = repo_path("tests/golden/" + name);
  Golden g;
  auto j = nlohmann::json::parse(slurp(dir + "/golden.json"));
  EXPECT_EQ(j.at("format"), "dseek-golden");
  EXPECT_EQ(j.at("version"), 1);
  g.model_path = repo_path(j.at("model").get<std::string>());
  g.tokens = j.at("tokens").get<std::vector<int32_t>>();
  g.greedy = j.at("greedy").get<std::vector<int32_t>>();
  std::string bin = slurp(dir + "/" + j.at("logits_file").get<std::string>());
  // 8-byte magic, u32 version, u32 rows, u32 cols, u32 reserved, float32 data.
  if (bin.size() < 24 || bin.compare(0, 8, "DSKGOLD1") != 0) {
    ADD_FAILURE() << dir << ": logits file has no DSKGOLD1 header";
    return g;
  }
  uint32_t header[4];
  std::memcpy(header, bin.data() + 8, sizeof header);
  g.rows = header[1];
  g.cols = header[2];
  if (bin.size() != 24 + 4 * static_cast<size_t>(g.rows * g.cols)) {
    ADD_FAILURE() << dir << ": logits file size does not match its header";
    return g;
  }
  g.logits.resize(static_cast<size_t>(g.rows * g.cols));
  std::memcpy(g.logits.data(), bin.data() + 24, 4 * g.logits.size());
  return g;
}

std::vector<float> read_f32_file(const std::string& path) {
  std::string bytes = slurp(path);
  std::vector<float> v(bytes.size() / 4);
  std::memcpy(v.data(), bytes.data(), 4 * v.size());
  return v;
}

std::vector<int32_t> read_id_list(const std::string& path) {
  std::stringstream in(slurp(path));
  std::vector<int32_t> ids;
  std::string item;
  while (std::getline(in, item, ',')) ids.push_back(std::stoi(item));
  return ids;
}

}  // namespace dseek::testing
