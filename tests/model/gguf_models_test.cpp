// Models loaded from GGUF files that llama.cpp wrote, against llama.cpp's
// own logits for the same files (tests/data/llamacpp, tolerances in
// logits_compare.h): the f32 files within tier 1 (and the same greedy
// continuation), the Q8_0 and Q4_0 files within tier 3; both MLA paths for
// deepseek2. The metadata mapping is checked against the HF config.json twins.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "engine/greedy.h"
#include "formats/gguf.h"
#include "formats/gguf_builder.h"
#include "kernels/kernels.h"
#include "logits_compare.h"
#include "model/architectures.h"
#include "model/gguf_model.h"
#include "model/rope.h"
#include "test_data.h"

namespace dseek {
namespace {

using testing::compare_logits;
namespace tol = testing::tolerance;

const char* kModels[] = {"deepseek2-v2-micro", "deepseek2-v3-micro", "deepseek2-v3-micro-fp8", "llama-micro",
                         "qwen2-micro"};

std::string fixture(const std::string& model, const std::string& file) {
  return testing::repo_path("tests/data/llamacpp/" + model + "/" + file);
}

struct ModelRun {
  std::vector<float> logits;  // every position
  std::vector<int32_t> greedy;
  int64_t vocab = 0;
};

ModelRun run_model(const std::string& path, const std::vector<int32_t>& tokens, MlaMode mla, int64_t n_greedy) {
  ThreadPool pool(2);
  LoadOptions options;
  options.pool = &pool;
  options.mla_mode = mla;
  options.kv_cache_type = DType::F32;  // tier 1 is for an f32 engine (f32 KV cache)
  auto model = load_model(path, options);
  ModelRun run;
  EXPECT_TRUE(model.ok()) << (model.ok() ? "" : model.error().message);
  if (!model.ok()) return run;
  Model& m = *model.value();
  run.vocab = m.config().vocab_size;
  run.logits.resize(tokens.size() * static_cast<size_t>(run.vocab));
  auto cache = m.new_cache(static_cast<int64_t>(tokens.size()) + n_greedy);
  SequenceInput input{cache.get(), tokens, true, run.logits.data()};
  auto s = m.forward(std::span<SequenceInput>(&input, 1));
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  if (n_greedy > 0) {
    auto fresh = m.new_cache(static_cast<int64_t>(tokens.size()) + n_greedy);
    auto g = generate_greedy(m, *fresh, tokens, n_greedy);
    EXPECT_TRUE(g.ok());
    if (g.ok()) run.greedy = g.value();
  }
  return run;
}

std::vector<MlaMode> modes_for(const std::string& model) {
  if (model.rfind("deepseek2", 0) == 0) return {MlaMode::kAbsorbed, MlaMode::kNaive};
  return {MlaMode::kAbsorbed};
}

TEST(GgufModels, F32FilesMatchLlamaCppTier1AndGreedy) {
  for (const char* model : kModels) {
    const auto tokens = testing::read_id_list(fixture(model, "tokens.txt"));
    const auto ref = testing::read_f32_file(fixture(model, "logits-llamacpp-f32gguf.f32"));
    const auto greedy = testing::read_id_list(fixture(model, "greedy-llamacpp.txt"));
    for (MlaMode mode : modes_for(model)) {
      const ModelRun run = run_model(fixture(model, "model-f32.gguf"), tokens, mode, mode == MlaMode::kAbsorbed ? 32 : 0);
      ASSERT_EQ(run.logits.size(), ref.size()) << model;
      const auto c = compare_logits(ref.data(), run.logits.data(), static_cast<int64_t>(tokens.size()), run.vocab);
      const std::string what = std::string(model) + (mode == MlaMode::kNaive ? " (naive MLA)" : "") + ": " + c.summary();
      std::printf("[ f32 GGUF ] %s\n", what.c_str());
      EXPECT_LE(c.max_rel_rms, tol::kF32MaxRelRms) << what;
      EXPECT_GE(c.min_cos, tol::kF32MinCos) << what;
      EXPECT_LE(c.max_kl, tol::kF32MaxKl) << what;
      EXPECT_EQ(c.top1_mismatches_with_margin, 0) << what;
      if (mode == MlaMode::kAbsorbed) EXPECT_EQ(run.greedy, greedy) << model;
    }
  }
}

TEST(GgufModels, QuantizedFilesWithinTier3OfLlamaCpp) {
  for (const char* model : kModels) {
    for (const char* type : {"q8_0", "q4_0"}) {
      const std::string file = fixture(model, std::string("model-") + type + ".gguf");
      if (!std::filesystem::exists(file)) continue;  // q4_0 exists for the deepseek2 models only
      const auto tokens = testing::read_id_list(fixture(model, "tokens.txt"));
      const auto ref = testing::read_f32_file(fixture(model, std::string("logits-llamacpp-") + type + "gguf.f32"));
      for (MlaMode mode : modes_for(model)) {
        const ModelRun run = run_model(file, tokens, mode, 0);
        ASSERT_EQ(run.logits.size(), ref.size()) << model;
        const auto c = compare_logits(ref.data(), run.logits.data(), static_cast<int64_t>(tokens.size()), run.vocab);
        const std::string what = std::string(model) + " " + type + (mode == MlaMode::kNaive ? " (naive MLA)" : "") +
                                 ": " + c.summary();
        std::printf("[ %s GGUF ] %s\n", type, what.c_str());
        EXPECT_LE(c.median_rel_rms, tol::kQuantMedianRelRms) << what;
        EXPECT_GE(c.fraction_rel_rms_le_5pct, tol::kQuantMinFractionLe5Pct) << what;
        EXPECT_LE(c.mean_kl, tol::kQuantMeanKl) << what;
        EXPECT_GE(c.top1_agreement, tol::kQuantMinTop1) << what;
      }
    }
  }
}

// The metadata mapping reproduces what the HF config.json of the same model says.
// Logits of three sequences run together: their prompts (different lengths)
// in one pass, then four decode steps of all three at once.
std::vector<float> batched_logits(const std::string& path, const std::vector<int32_t>& tokens, bool pack,
                                  int64_t* packed_bytes, int64_t pack_budget = 0) {
  ThreadPool pool(2);
  LoadOptions options;
  options.pool = &pool;
  options.kv_cache_type = DType::F32;
  options.pack_for_batches = pack;
  options.pack_budget_bytes = pack_budget;
  auto model = load_model(path, options);
  EXPECT_TRUE(model.ok()) << (model.ok() ? "" : model.error().message);
  if (!model.ok()) return {};
  Model& m = *model.value();
  *packed_bytes = m.packed_weight_bytes();
  const int64_t vocab = m.config().vocab_size;
  constexpr int kSeqs = 3, kSteps = 4;
  std::vector<std::unique_ptr<KvCache>> caches;
  std::vector<std::vector<int32_t>> prompts;
  for (int s = 0; s < kSeqs; ++s) {
    caches.push_back(m.new_cache(64));
    prompts.emplace_back(tokens.begin() + s, tokens.begin() + s + 3 + 4 * s);
  }
  std::vector<float> out;
  for (int step = 0; step <= kSteps; ++step) {
    std::vector<float> logits(static_cast<size_t>(kSeqs * 16 * vocab));
    std::vector<SequenceInput> batch;
    std::vector<int32_t> next(kSeqs);
    for (int s = 0; s < kSeqs; ++s) {
      next[s] = tokens[(10 + 3 * step + s) % tokens.size()];
      const std::span<const int32_t> ids = step == 0 ? std::span<const int32_t>(prompts[s]) : std::span<const int32_t>(&next[s], 1);
      batch.push_back({caches[s].get(), ids, true, logits.data() + s * 16 * vocab});
    }
    auto status = m.forward(std::span<SequenceInput>(batch));
    EXPECT_TRUE(status.ok());
    for (int s = 0; s < kSeqs; ++s)
      out.insert(out.end(), logits.begin() + s * 16 * vocab,
                 logits.begin() + (s * 16 + static_cast<int64_t>(batch[s].tokens.size())) * vocab);
  }
  return out;
}

// The packed copies a server keeps of the weights every token reads
// (LoadOptions::pack_for_batches) change speed, never results: the quantized
// files give the same bits with and without them, batched.
TEST(GgufModels, PackedWeightsGiveTheSameBits) {
  int packed_files = 0;
  for (const char* model : kModels) {
    for (const char* type : {"q8_0", "q4_0"}) {
      const std::string file = fixture(model, std::string("model-") + type + ".gguf");
      if (!std::filesystem::exists(file)) continue;
      const auto tokens = testing::read_id_list(fixture(model, "tokens.txt"));
      int64_t bytes_plain = -1, bytes_packed = -1;
      const auto plain = batched_logits(file, tokens, false, &bytes_plain);
      const auto packed = batched_logits(file, tokens, true, &bytes_packed);
      EXPECT_EQ(bytes_plain, 0);
      ASSERT_FALSE(plain.empty());
      ASSERT_EQ(plain.size(), packed.size()) << model << " " << type;
      EXPECT_EQ(std::memcmp(plain.data(), packed.data(), plain.size() * sizeof(float)), 0) << model << " " << type;
      if (bytes_packed > 0) ++packed_files;
      // Under a budget of half that, part of the weights are packed (never
      // more than the budget), with the same results.
      if (bytes_packed > 0) {
        int64_t bytes_half = -1;
        const auto half = batched_logits(file, tokens, true, &bytes_half, bytes_packed / 2);
        EXPECT_GT(bytes_half, 0) << model << " " << type;
        EXPECT_LE(bytes_half, bytes_packed / 2) << model << " " << type;
        ASSERT_EQ(half.size(), plain.size());
        EXPECT_EQ(std::memcmp(plain.data(), half.data(), plain.size() * sizeof(float)), 0) << model << " " << type;
      }
    }
  }
  // The active table packs both types where it has a packed layout for them.
  const kernels::KernelTable& table = kernels::active_table();
  if (table.use_act_kernels && table.pack[static_cast<int>(DType::Q8_0)] && table.pack[static_cast<int>(DType::Q4_0)])
    EXPECT_GE(packed_files, 6);
}

TEST(GgufModels, ConfigFromMetadataMatchesConfigJson) {
  for (const char* model : kModels) {
    auto file = open_gguf(fixture(model, "model-f32.gguf"));
    ASSERT_TRUE(file.ok());
    auto g = model_config_from_gguf(file.value());
    ASSERT_TRUE(g.ok()) << g.error().message;
    auto h = load_model_config(fixture(model, "hf"));
    ASSERT_TRUE(h.ok()) << h.error().message;
    SCOPED_TRACE(model);
    EXPECT_EQ(g->family, h->family);
    EXPECT_EQ(g->vocab_size, h->vocab_size);
    EXPECT_EQ(g->hidden_size, h->hidden_size);
    EXPECT_EQ(g->intermediate_size, h->intermediate_size);
    EXPECT_EQ(g->num_hidden_layers, h->num_hidden_layers);
    EXPECT_EQ(g->num_attention_heads, h->num_attention_heads);
    EXPECT_NEAR(g->rms_norm_eps, h->rms_norm_eps, 1e-12);
    EXPECT_EQ(g->rope_theta, h->rope_theta);
    EXPECT_EQ(g->tie_word_embeddings, h->tie_word_embeddings);
    EXPECT_EQ(g->bos_token_id, h->bos_token_id);
    if (!h->eos_token_ids.empty()) EXPECT_EQ(g->eos_token_ids.at(0), h->eos_token_ids.at(0));
    if (g->uses_mla()) {
      EXPECT_EQ(g->mla.q_lora_rank, h->mla.q_lora_rank);
      EXPECT_EQ(g->mla.kv_lora_rank, h->mla.kv_lora_rank);
      EXPECT_EQ(g->mla.qk_nope_head_dim, h->mla.qk_nope_head_dim);
      EXPECT_EQ(g->mla.qk_rope_head_dim, h->mla.qk_rope_head_dim);
      EXPECT_EQ(g->mla.v_head_dim, h->mla.v_head_dim);
      EXPECT_EQ(g->moe.n_routed_experts, h->moe.n_routed_experts);
      EXPECT_EQ(g->moe.n_shared_experts, h->moe.n_shared_experts);
      EXPECT_EQ(g->moe.num_experts_per_tok, h->moe.num_experts_per_tok);
      EXPECT_EQ(g->moe.moe_intermediate_size, h->moe.moe_intermediate_size);
      EXPECT_EQ(g->moe.first_k_dense_replace, h->moe.first_k_dense_replace);
      EXPECT_EQ(g->moe.n_group, h->moe.n_group);
      EXPECT_EQ(g->moe.topk_group, h->moe.topk_group);
      EXPECT_EQ(g->moe.topk_method, h->moe.topk_method);
      EXPECT_EQ(g->moe.scoring_func, h->moe.scoring_func);
      EXPECT_EQ(g->moe.norm_topk_prob, h->moe.norm_topk_prob);
      EXPECT_EQ(g->moe.routed_scaling_factor, h->moe.routed_scaling_factor);
      EXPECT_EQ(g->rope_scaling.type, h->rope_scaling.type);
      EXPECT_EQ(g->rope_scaling.factor, h->rope_scaling.factor);
      EXPECT_EQ(g->rope_scaling.original_max_position_embeddings, h->rope_scaling.original_max_position_embeddings);
      EXPECT_NEAR(g->rope_scaling.mscale_all_dim, h->rope_scaling.mscale_all_dim, 1e-6);
      EXPECT_NEAR(g->rope_scaling.mscale, h->rope_scaling.mscale, 1e-6);
    } else {
      EXPECT_EQ(g->num_key_value_heads, h->num_key_value_heads);
      EXPECT_EQ(g->head_dim, h->head_dim);
      EXPECT_EQ(g->qkv_bias, h->qkv_bias);
      EXPECT_EQ(g->rope_adjacent_pairs, std::string(model) == "llama-micro");
    }
  }
  // llama3 scaling: the GGUF's rope_freqs divisors give HF's llama3 frequencies.
  auto file = open_gguf(fixture("llama-micro", "model-f32.gguf"));
  ASSERT_TRUE(file.ok());
  auto g = model_config_from_gguf(file.value());
  ASSERT_TRUE(g.ok());
  auto h = load_model_config(fixture("llama-micro", "hf"));
  ASSERT_TRUE(h.ok());
  const RopeFrequencies fg = make_rope_frequencies(g->head_dim, g->rope_theta, g->rope_scaling);
  const RopeFrequencies fh = make_rope_frequencies(h->head_dim, h->rope_theta, h->rope_scaling);
  ASSERT_EQ(fg.inv_freq.size(), fh.inv_freq.size());
  for (size_t i = 0; i < fg.inv_freq.size(); ++i) EXPECT_NEAR(fg.inv_freq[i] / fh.inv_freq[i], 1.0, 1e-6) << i;
}

std::string write_temp(const std::vector<uint8_t>& bytes, const std::string& name) {
  const std::string path = ::testing::TempDir() + "/" + name;
  FILE* f = std::fopen(path.c_str(), "wb");
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  return path;
}

TEST(GgufModels, MetadataErrorsNameTheKey) {
  using testing::GgufBuilder;
  auto config_error = [](const std::vector<uint8_t>& bytes) {
    const std::string path = write_temp(bytes, "meta.gguf");
    auto file = open_gguf(path);
    EXPECT_TRUE(file.ok());
    if (!file.ok()) return file.error().message;
    auto c = model_config_from_gguf(file.value());
    EXPECT_FALSE(c.ok());
    std::remove(path.c_str());
    return c.ok() ? std::string() : c.error().message;
  };
  EXPECT_NE(config_error(GgufBuilder().header(0, 1).kv_str("general.architecture", "gpt2").bytes)
                .find("architecture 'gpt2' is not supported"),
            std::string::npos);
  EXPECT_NE(config_error(GgufBuilder().header(0, 0).bytes).find("general.architecture is missing"), std::string::npos);
  GgufBuilder no_layers;
  no_layers.header(0, 2).kv_str("general.architecture", "llama").kv_u32("llama.embedding_length", 64);
  EXPECT_NE(config_error(no_layers.bytes).find("llama.block_count: is required"), std::string::npos);
  GgufBuilder wrong_type;
  wrong_type.header(0, 2).kv_str("general.architecture", "qwen2").kv_str("qwen2.block_count", "2");
  EXPECT_NE(config_error(wrong_type.bytes).find("qwen2.block_count: expected an integer, found string"),
            std::string::npos);
}

}  // namespace
}  // namespace dseek
