#include "convert/synthetic_model.h"

#include <cstdio>
#include <string>
#include <filesystem>
#include <random>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_data.h"

namespace dseek::testing {

namespace fs = std::filesystem;

// A llama model whose every row is a whole number of 256-element
// super-blocks, so that k-quant files really hold Q2_K..Q6_K tensors (the
// committed tiny models have rows of 64..200 values: their k-quant files
// use the fallback types). Random f32 weights as the llama.cpp fixtures
// draw them: N(0, 0.02), head N(0, 0.1), norms 1 + N(0, 0.1).
std::string make_kquant_llama(const std::string& dir) {
  fs::create_directories(dir);
  nlohmann::json config = {{"model_type", "llama"}, {"hidden_size", 256}, {"intermediate_size", 512},
                           {"num_hidden_layers", 2}, {"num_attention_heads", 4}, {"num_key_value_heads", 2},
                           {"vocab_size", 384}, {"rms_norm_eps", 1e-5}, {"rope_theta", 10000.0},
                           {"max_position_embeddings", 256}, {"bos_token_id", 1}, {"eos_token_id", 2}};
  FILE* f = std::fopen((dir + "/config.json").c_str(), "w");
  std::fputs(config.dump().c_str(), f);
  std::fclose(f);
  // llama3-tiny's 384-token byte-level BPE tokenizer (llama.cpp needs one to load a file).
  for (const char* file : {"tokenizer.json", "tokenizer_config.json"})
    fs::copy_file(repo_path(std::string("tests/data/models/llama3-tiny/") + file), dir + "/" + file,
                  fs::copy_options::overwrite_existing);
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<std::pair<std::string, std::vector<int64_t>>> specs = {{"model.embed_tokens.weight", {384, 256}},
                                                                     {"lm_head.weight", {384, 256}},
                                                                     {"model.norm.weight", {256}}};
  for (int l = 0; l < 2; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    for (auto [n, shape] : std::initializer_list<std::pair<const char*, std::vector<int64_t>>>{
             {"input_layernorm.weight", {256}}, {"post_attention_layernorm.weight", {256}},
             {"self_attn.q_proj.weight", {256, 256}}, {"self_attn.k_proj.weight", {128, 256}},
             {"self_attn.v_proj.weight", {128, 256}}, {"self_attn.o_proj.weight", {256, 256}},
             {"mlp.gate_proj.weight", {512, 256}}, {"mlp.up_proj.weight", {512, 256}},
             {"mlp.down_proj.weight", {256, 512}}})
      specs.push_back({p + n, shape});
  }
  nlohmann::json header = nlohmann::json::object();
  std::vector<float> data;
  for (const auto& [name, shape] : specs) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    const bool norm = shape.size() == 1;
    const float std_dev = norm ? 0.1f : name == "lm_head.weight" ? 0.1f : 0.02f;
    header[name] = {{"dtype", "F32"}, {"shape", shape}, {"data_offsets", {4 * data.size(), 4 * (data.size() + n)}}};
    for (int64_t i = 0; i < n; ++i) data.push_back((norm ? 1.0f : 0.0f) + std_dev * normal(rng));
  }
  std::string text = header.dump();
  text.resize((text.size() + 7) / 8 * 8, ' ');
  const uint64_t len = text.size();
  f = std::fopen((dir + "/model.safetensors").c_str(), "wb");
  std::fwrite(&len, 8, 1, f);
  std::fwrite(text.data(), 1, text.size(), f);
  std::fwrite(data.data(), 4, data.size(), f);
  std::fclose(f);
  return dir;
}

}  // namespace dseek::testing
