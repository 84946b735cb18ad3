// Weights are used in place through mmap: loading a checkpoint must not read
// or copy it. A 2.2 GB checkpoint (a sparse file: no disk or page cache is
// used until a page is touched) must load without its weights becoming
// resident, and still run.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "engine/greedy.h"
#include "model/architectures.h"
#include "test_files.h"

namespace dseek {
namespace {

int64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * ::sysconf(_SC_PAGESIZE);
}

// A llama-family checkpoint of zeros: header written, data left as a hole.
std::string make_sparse_llama(int64_t hidden, int64_t inter, int64_t layers, int64_t vocab) {
  std::string dir = testing::make_temp_dir("sparse");
  nlohmann::json config = {{"model_type", "llama"}, {"vocab_size", vocab}, {"hidden_size", hidden},
                           {"intermediate_size", inter}, {"num_hidden_layers", layers},
                           {"num_attention_heads", hidden / 128}, {"num_key_value_heads", hidden / 128},
                           {"max_position_embeddings", 4096}, {"rms_norm_eps", 1e-5}};
  testing::write_file(dir + "/config.json", config.dump());
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
  testing::write_file(path, testing::safetensors_bytes(header, ""));
  const std::string head = testing::read_file(path);
  EXPECT_EQ(::truncate(path.c_str(), static_cast<off_t>(head.size() + offset)), 0);
  return dir;
}

TEST(MmapLoad, LoadingDoesNotTouchTheWeights) {
  const std::string dir = make_sparse_llama(2048, 5632, 8, 32000);
  ThreadPool pool(2);
  LoadOptions options;
  options.pool = &pool;
  const int64_t before = resident_bytes();
  auto model = load_model(dir, options);
  ASSERT_TRUE(model.ok()) << model.error().message;
  const int64_t grown = resident_bytes() - before;
  std::printf("checkpoint 2.2 GB; resident memory grew by %.1f MB during load\n", grown / 1e6);
  EXPECT_LT(grown, 32 << 20);  // norms are converted (~0.1 MB); the 2.2 GB of weights are not touched

  auto cache = (*model)->new_cache(4);
  std::vector<int32_t> prompt = {1, 2};
  auto out = generate_greedy(**model, *cache, prompt, 2);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out.value(), (std::vector<int32_t>{0, 0}));  // all-zero weights: all logits tie, lowest id wins
}

}  // namespace
}  // namespace dseek
