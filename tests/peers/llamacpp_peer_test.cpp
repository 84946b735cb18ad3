// Files written by `dseek convert` load in llama.cpp (node-llama-cpp@3.22.1,
// which bundles llama.cpp release v0.5.0; tools/llamacpp/logits.mjs) and give
// there the logits dseek computes on the same file: f32 files within tier 1,
// quantized files within tier 3 (llama.cpp quantizes activations for its
// quantized products; dseek does not yet). The k-quant files of a synthetic
// 256-wide llama check the Q2_K..Q6_K block layouts against llama.cpp's own
// decoding; the fallback types (Q5_0, Q5_1) show up in the other models.
//
// Not loadable by llama.cpp, so not here: deepseek-v2-tiny (moe_layer_freq 2,
// which llama.cpp's deepseek2 cannot express) and deepseek-v2-lite-tiny
// (llama.cpp takes a deepseek2 file without q_lora_rank as V2-Lite only
// when it has 26 or 27 layers).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "convert/hf_to_gguf.h"
#include "convert/synthetic_model.h"
#include "logits_compare.h"
#include "model/architectures.h"
#include "test_data.h"

namespace dseek {
namespace {

namespace fs = std::filesystem;
namespace tol = testing::tolerance;

struct Job {
  std::string name, model;
  std::vector<int32_t> tokens;
  DType type;
  std::vector<float> dseek;  // dseek's logits on the same file
  std::string out;           // llama.cpp's, written by the script
};

std::vector<float> dseek_logits(const std::string& path, const std::vector<int32_t>& tokens) {
  ThreadPool pool(2);
  LoadOptions options;
  options.pool = &pool;
  auto model = load_model(path, options);
  EXPECT_TRUE(model.ok()) << (model.ok() ? "" : model.error().message);
  if (!model.ok()) return {};
  Model& m = *model.value();
  std::vector<float> logits(tokens.size() * static_cast<size_t>(m.config().vocab_size));
  auto cache = m.new_cache(static_cast<int64_t>(tokens.size()));
  SequenceInput input{cache.get(), tokens, true, logits.data()};
  EXPECT_TRUE(m.forward(std::span<SequenceInput>(&input, 1)).ok());
  return logits;
}

TEST(LlamaCppPeer, ConvertedFilesGiveDseeksLogitsInLlamaCpp) {
  const std::string dir = (fs::path(::testing::TempDir()) / "llamacpp-peer").string();
  fs::create_directories(dir);
  ThreadPool pool(2);
  std::vector<Job> jobs;
  auto add = [&](const std::string& name, const std::string& folder, const std::vector<int32_t>& tokens, DType type) {
    Job j{name, dir + "/" + std::to_string(jobs.size()) + ".gguf", tokens, type, {},
          dir + "/" + std::to_string(jobs.size()) + ".f32"};
    ConvertOptions o;
    o.type = type;
    o.pool = &pool;
    auto s = convert_to_gguf(folder, j.model, o);
    ASSERT_TRUE(s.ok()) << s.error().message;
    j.dseek = dseek_logits(j.model, tokens);
    jobs.push_back(std::move(j));
  };
  for (const char* m : {"deepseek2-v2-micro", "deepseek2-v3-micro", "deepseek2-v3-micro-fp8", "llama-micro", "qwen2-micro"}) {
    const std::string base = testing::repo_path(std::string("tests/data/llamacpp/") + m);
    const auto tokens = testing::read_id_list(base + "/tokens.txt");
    for (DType t : {DType::F32, DType::Q8_0, DType::Q4_K, DType::Q5_K}) add(m, base + "/hf", tokens, t);
  }
  const std::vector<int32_t> prompt = {1, 17, 250, 99, 3, 42, 7, 300, 128, 5, 64, 200, 11, 310, 77, 2};
  // The committed tiny models (random weights at large scales) amplify the
  // difference that llama.cpp's activation quantization makes far beyond
  // tier 3 (deepseek-v3-tiny-fp8 Q8_0: mean KL 0.022): f32 only.
  for (const char* m : {"llama3-tiny", "qwen2-tiny", "deepseek-coder-tiny", "deepseek-v3-tiny-fp8"})
    add(m, testing::repo_path(std::string("tests/data/models/") + m), prompt, DType::F32);
  std::vector<int32_t> long_prompt;
  for (int i = 0; i < 96; ++i) long_prompt.push_back((i * 97 + 13) % 384);
  const std::string synthetic = testing::make_kquant_llama(dir + "/llama-kquant");
  for (DType t : {DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K})
    add("llama-kquant (synthetic)", synthetic, long_prompt, t);

  nlohmann::json list = nlohmann::json::array();
  for (const Job& j : jobs) list.push_back({{"model", j.model}, {"tokens", j.tokens}, {"out", j.out}});
  std::ofstream(dir + "/jobs.json") << list.dump();
  const std::string script = testing::repo_path("tools/llamacpp/logits.mjs");
  const std::string command = "node '" + script + "' --jobs '" + dir + "/jobs.json' '" + dir + "/info.json'";
  ASSERT_EQ(std::system(command.c_str()), 0)
      << command << " failed (needs node and `npm ci` in the repository root for node-llama-cpp)";
  std::ifstream info_file(dir + "/info.json");
  const auto info = nlohmann::json::parse(info_file);
  std::printf("[ llama.cpp ] %s, llama.cpp %s %s (%s), %s\n", info["package"].get<std::string>().c_str(),
              info["llamaCppRelease"]["repo"].get<std::string>().c_str(),
              info["llamaCppRelease"]["release"].get<std::string>().c_str(), info["buildType"].get<std::string>().c_str(),
              info["systemInfo"].get<std::string>().c_str());
  EXPECT_EQ(info["package"], "node-llama-cpp@3.22.1");

  for (const Job& j : jobs) {
    const std::vector<float> theirs = testing::read_f32_file(j.out);
    ASSERT_EQ(theirs.size(), j.dseek.size()) << j.name;
    const int64_t rows = static_cast<int64_t>(j.tokens.size());
    const auto c = testing::compare_logits(theirs.data(), j.dseek.data(), rows, static_cast<int64_t>(theirs.size()) / rows);
    const std::string what = j.name + " " + std::string(dtype_info(j.type).name) + ": " + c.summary();
    std::printf("[ llama.cpp ] %s\n", what.c_str());
    if (j.type == DType::F32) {
      EXPECT_LE(c.max_rel_rms, tol::kF32MaxRelRms) << what;
      EXPECT_GE(c.min_cos, tol::kF32MinCos) << what;
      EXPECT_LE(c.max_kl, tol::kF32MaxKl) << what;
      EXPECT_EQ(c.top1_mismatches_with_margin, 0) << what;
    } else {
      EXPECT_LE(c.median_rel_rms, tol::kQuantMedianRelRms) << what;
      EXPECT_GE(c.fraction_rel_rms_le_5pct, tol::kQuantMinFractionLe5Pct) << what;
      EXPECT_LE(c.mean_kl, tol::kQuantMeanKl) << what;
      EXPECT_GE(c.top1_agreement, tol::kQuantMinTop1) << what;
    }
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace dseek
