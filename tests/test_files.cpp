#include "test_files.h"

#include <gtest/gtest.h>
#include <unistd.h>


#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace dseek::testing {

namespace fs = std::filesystem;

namespace {
struct TempRoot {
  std::string path;
  TempRoot() {
    path = (fs::temp_directory_path() / ("dseek-test-" + std::to_string(::getpid()))).string();
    fs::create_directories(path);
  }
  ~TempRoot() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};
TempRoot& temp_root() {
  static TempRoot root;
  return root;
}
}  // namespace

std::string make_temp_dir(const std::string& tag) {
  static std::atomic<int> counter{0};
  fs::path dir = fs::path(temp_root().path) / (tag + "-" + std::to_string(counter++));
  fs::create_directories(dir);
  return dir.string();
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

nlohmann::json safetensors_header(const std::vector<TensorSpec>& tensors) {
  nlohmann::json header = nlohmann::json::object();
  header["__metadata__"] = {{"format", "pt"}};
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  return header;
}

std::string safetensors_bytes(const nlohmann::json& header, const std::string& data) {
  std::string text = header.dump();
  while (text.size() % 8 != 0) text += ' ';
  std::string out(8, '\0');
  uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + text + data;
}

std::string safetensors_bytes(const std::vector<TensorSpec>& tensors) {
  std::string data;
  for (const auto& t : tensors) data += t.bytes;
  return safetensors_bytes(safetensors_header(tensors), data);
}

std::string f32_bytes(const std::vector<float>& values) {
  std::string s(values.size() * 4, '\0');
  std::memcpy(s.data(), values.data(), s.size());
  return s;
}

std::string copy_model_folder(const std::string& from, const std::string& tag) {
  std::string dir = make_temp_dir(tag);
  for (const auto& entry : fs::directory_iterator(from))
    if (entry.is_regular_file()) fs::copy_file(entry.path(), fs::path(dir) / entry.path().filename());
  return dir;
}

// A llama-family checkpoint of zeros: header written, data left as a hole.
std::string make_sparse_llama(int64_t hidden, int64_t inter, int64_t layers, int64_t vocab, const nlohmann::json& extra_config) {
  std::string dir = make_temp_dir("sparse");
  nlohmann::json config = {{"model_type", "llama"}, {"vocab_size", vocab}, {"hidden_size", hidden},
                           {"intermediate_size", inter}, {"num_hidden_layers", layers},
                           {"num_attention_heads", hidden / 128}, {"num_key_value_heads", hidden / 128},
                           {"max_position_embeddings", 4096}, {"rms_norm_eps", 1e-5}};
  for (auto it = extra_config.begin(); it != extra_config.end(); ++it) config[it.key()] = it.value();
  write_file(dir + "/config.json", config.dump());
  nlohmann::json header = nlohmann::json::object();
  uint64_t offset = 0;
  auto add = [&](const std::string& name, std::vector<int64_t> shape) {
    uint64_t bytes = 4;
    for (int64_t d : shape) bytes *= static_cast<uint64_t>(d);
    header[name] = {{"dtype", "F32"}, {"shape", shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  };
  add("model.embed_tokens.weight", {vocab, hidden});
  add("lm_head.weight", {vocab, hidden});
  add("model.norm.weight", {hidden});
  for (int64_t i = 0; i < layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i);
    for (const char* n : {".self_attn.q_proj.weight", ".self_attn.k_proj.weight", ".self_attn.v_proj.weight",
                          ".self_attn.o_proj.weight"})
      add(p + n, {hidden, hidden});
    add(p + ".mlp.gate_proj.weight", {inter, hidden});
    add(p + ".mlp.up_proj.weight", {inter, hidden});
    add(p + ".mlp.down_proj.weight", {hidden, inter});
    add(p + ".input_layernorm.weight", {hidden});
    add(p + ".post_attention_layernorm.weight", {hidden});
  }
  const std::string path = dir + "/model.safetensors";
  write_file(path, safetensors_bytes(header, ""));
  const std::string head = read_file(path);
  EXPECT_EQ(::truncate(path.c_str(), static_cast<off_t>(head.size() + offset)), 0);
  return dir;
}

}  // namespace dseek::testing
