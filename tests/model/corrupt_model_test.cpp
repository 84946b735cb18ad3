// Broken model folders: each must fail to load with a message naming the
// file and what is wrong (never a crash; the sanitizer build runs these too).
#include <gtest/gtest.h>

#include <filesystem>

#include "model/architectures.h"
#include "test_data.h"
#include "test_files.h"

namespace dseek {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string load_error(const std::string& folder) {
  ThreadPool pool(1);
  LoadOptions options;
  options.pool = &pool;
  auto m = load_model(folder, options);
  EXPECT_FALSE(m.ok()) << folder << " loaded although it is broken";
  return m.ok() ? "" : m.error().message;
}

// Splits a safetensors file into header JSON and data, applies `edit`, and
// writes it back (the data blob is written as the edit leaves it).
void rewrite_safetensors(const std::string& path, const std::function<void(json&, std::string&)>& edit) {
  std::string bytes = testing::read_file(path);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(bytes[i]);
  json header = json::parse(bytes.substr(8, n));
  std::string data = bytes.substr(8 + n);
  edit(header, data);
  testing::write_file(path, testing::safetensors_bytes(header, data));
}

void edit_config(const std::string& folder, const std::function<void(json&)>& edit) {
  json config = json::parse(testing::read_file(folder + "/config.json"));
  edit(config);
  testing::write_file(folder + "/config.json", config.dump());
}

const std::string kQwen = "tests/data/models/qwen2-tiny";
const std::string kV3 = "tests/data/models/deepseek-v3-tiny-fp8";
const std::string kV2Lite = "tests/data/models/deepseek-v2-lite-tiny";

std::string copy(const std::string& model) { return testing::copy_model_folder(testing::repo_path(model), "corrupt"); }

#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_NE((haystack).find(needle), std::string::npos) << "message: " << (haystack)

TEST(CorruptModel, MissingFolderOrConfig) {
  EXPECT_CONTAINS(load_error("/nonexistent/model"), "/nonexistent/model: not a model folder");
  std::string dir = copy(kQwen);
  fs::remove(dir + "/config.json");
  EXPECT_CONTAINS(load_error(dir), "config.json: cannot open");
}

TEST(CorruptModel, ConfigNotJsonOrUnknownArchitecture) {
  std::string dir = copy(kQwen);
  testing::write_file(dir + "/config.json", "{\"model_type\": ");
  EXPECT_CONTAINS(load_error(dir), "config.json: not valid JSON");
  dir = copy(kQwen);
  edit_config(dir, [](json& c) { c["model_type"] = "gpt_neox"; });
  EXPECT_CONTAINS(load_error(dir), "model_type 'gpt_neox' is not supported");
}

TEST(CorruptModel, NoWeights) {
  std::string dir = copy(kQwen);
  fs::remove(dir + "/model.safetensors");
  EXPECT_CONTAINS(load_error(dir), "no model.safetensors or model.safetensors.index.json");
}

TEST(CorruptModel, TruncatedSafetensors) {
  std::string dir = copy(kQwen);
  fs::resize_file(dir + "/model.safetensors", fs::file_size(dir + "/model.safetensors") - 100);
  std::string e = load_error(dir);
  EXPECT_CONTAINS(e, "model.safetensors");
  EXPECT_CONTAINS(e, "past the end of the data");
  fs::resize_file(dir + "/model.safetensors", 5);
  EXPECT_CONTAINS(load_error(dir), "too short");
  fs::resize_file(dir + "/model.safetensors", 0);
  EXPECT_CONTAINS(load_error(dir), "file is empty");
}

TEST(CorruptModel, HeaderOffsetsLie) {
  std::string dir = copy(kQwen);
  rewrite_safetensors(dir + "/model.safetensors", [](json& h, std::string&) {
    auto& t = h["model.norm.weight"];
    t["data_offsets"][1] = t["data_offsets"][1].get<uint64_t>() + 1000000;
  });
  EXPECT_CONTAINS(load_error(dir), "tensor 'model.norm.weight'");
}

TEST(CorruptModel, WrongShape) {
  std::string dir = copy(kQwen);
  rewrite_safetensors(dir + "/model.safetensors", [](json& h, std::string&) {
    auto& t = h["model.layers.0.self_attn.k_proj.weight"];
    t["shape"] = {t["shape"][1], t["shape"][0]};  // transposed: same byte count
  });
  EXPECT_CONTAINS(load_error(dir), "model.layers.0.self_attn.k_proj.weight has shape [64, 32], expected [32, 64]");
  dir = copy(kQwen);
  rewrite_safetensors(dir + "/model.safetensors", [](json& h, std::string&) {
    h["model.layers.1.mlp.up_proj.weight"]["shape"] = {64, 128};  // swapped dims of [128, 64]
  });
  EXPECT_CONTAINS(load_error(dir), "model.layers.1.mlp.up_proj.weight has shape [64, 128], expected [128, 64]");
}

TEST(CorruptModel, WrongDtype) {
  std::string dir = copy(kQwen);
  rewrite_safetensors(dir + "/model.safetensors", [](json& h, std::string&) {
    auto& t = h["model.layers.0.mlp.down_proj.weight"];
    t["dtype"] = "I16";  // same element size as F16
  });
  EXPECT_CONTAINS(load_error(dir), "model.layers.0.mlp.down_proj.weight has dtype I16");
}

TEST(CorruptModel, MissingTensor) {
  std::string dir = copy(kQwen);
  rewrite_safetensors(dir + "/model.safetensors", [](json& h, std::string& data) {
    // Drop the last tensor in the file (and its bytes) so the file stays valid.
    std::string last;
    uint64_t last_begin = 0;
    for (auto it = h.begin(); it != h.end(); ++it) {
      if (it.key() == "__metadata__") continue;
      uint64_t begin = it.value()["data_offsets"][0];
      if (begin >= last_begin) last_begin = begin, last = it.key();
    }
    h.erase(last);
    data.resize(last_begin);
  });
  EXPECT_CONTAINS(load_error(dir), "missing tensor");
}

TEST(CorruptModel, Fp8WithoutScaleOrWrongScaleShape) {
  std::string dir = copy(kV3);
  std::string shard;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".safetensors") {
      std::string bytes = testing::read_file(e.path().string());
      if (bytes.find("model.layers.0.self_attn.q_b_proj.weight_scale_inv") != std::string::npos) shard = e.path().string();
    }
  ASSERT_FALSE(shard.empty());
  std::string pristine = testing::read_file(shard);
  rewrite_safetensors(shard, [](json& h, std::string&) {
    h["model.layers.0.self_attn.q_b_proj.weight_scale_inv"]["shape"] = {1, 1, 2};
  });
  EXPECT_CONTAINS(load_error(dir), "q_b_proj.weight_scale_inv has shape [1, 1, 2], expected [1, 2]");
  testing::write_file(shard, pristine);
  edit_config(dir, [](json& c) { c.erase("quantization_config"); });
  EXPECT_CONTAINS(load_error(dir), "is F8_E4M3 but config.json has no fp8 quantization_config");
}

TEST(CorruptModel, ShardIndexLies) {
  std::string dir = copy(kV2Lite);
  json index = json::parse(testing::read_file(dir + "/model.safetensors.index.json"));
  index["weight_map"]["model.norm.weight"] = "model-00009-of-00009.safetensors";
  testing::write_file(dir + "/model.safetensors.index.json", index.dump());
  EXPECT_CONTAINS(load_error(dir), "lists model-00009-of-00009.safetensors, which does not exist");
  index["weight_map"]["model.norm.weight"] = "../../etc/passwd";
  testing::write_file(dir + "/model.safetensors.index.json", index.dump());
  EXPECT_CONTAINS(load_error(dir), "is not a file name in the folder");
  dir = copy(kV2Lite);
  index = json::parse(testing::read_file(dir + "/model.safetensors.index.json"));
  index["weight_map"]["model.layers.99.extra.weight"] = index["weight_map"]["model.norm.weight"];
  testing::write_file(dir + "/model.safetensors.index.json", index.dump());
  EXPECT_CONTAINS(load_error(dir), "index lists tensor 'model.layers.99.extra.weight' but the file does not hold it");
}

TEST(CorruptModel, ConfigDisagreesWithWeights) {
  std::string dir = copy(kV3);
  edit_config(dir, [](json& c) { c["kv_lora_rank"] = 40; });
  EXPECT_CONTAINS(load_error(dir), "kv_a_proj_with_mqa.weight has shape");
  dir = copy(kV3);
  edit_config(dir, [](json& c) { c["num_hidden_layers"] = 5; });
  EXPECT_CONTAINS(load_error(dir), "missing tensor 'model.layers.4.input_layernorm.weight'");
}

}  // namespace
}  // namespace dseek
