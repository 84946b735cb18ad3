// The same tokens through different paths of the engine must give the same
// logits: MLA absorbed vs naive (and its smaller cache), one batched prefill
// vs token-by-token decoding vs chunks, several sequences in one forward pass
// vs each alone, more threads vs one.
#include <gtest/gtest.h>

#include "model/tolerances.h"
#include "model_runner.h"
#include "test_data.h"

namespace dseek {
namespace {

std::vector<float> run_in_chunks(Model& model, const std::vector<int32_t>& tokens, const std::vector<size_t>& chunks) {
  const int64_t vocab = model.config().vocab_size;
  auto cache = model.new_cache(static_cast<int64_t>(tokens.size()));
  std::vector<float> all;
  size_t start = 0;
  for (size_t n : chunks) {
    std::vector<float> logits(n * static_cast<size_t>(vocab));
    SequenceInput in{cache.get(), std::span<const int32_t>(tokens.data() + start, n), true, logits.data()};
    Status s = model.forward(std::span<SequenceInput>(&in, 1));
    EXPECT_TRUE(s.ok()) << s.error().message;
    all.insert(all.end(), logits.begin(), logits.end());
    start += n;
  }
  EXPECT_EQ(start, tokens.size());
  EXPECT_EQ(cache->n_tokens(), static_cast<int64_t>(tokens.size()));
  return all;
}

class ForwardPaths : public ::testing::TestWithParam<std::string> {};

TEST_P(ForwardPaths, BatchedPrefillEqualsIncrementalAndChunked) {
  testing::Golden g = testing::read_golden(GetParam());
  testing::LoadedModel m = testing::load_or_fail(g.model_path);
  ASSERT_TRUE(m.model);
  std::vector<float> batched = testing::prompt_logits(*m.model, g.tokens);
  std::vector<float> incremental = run_in_chunks(*m.model, g.tokens, std::vector<size_t>(g.tokens.size(), 1));
  std::vector<float> chunked = run_in_chunks(*m.model, g.tokens, {31, 1, 48});
  EXPECT_LE(testing::deviation(incremental, batched).relative(), testing::kSameEngineRelative);
  EXPECT_LE(testing::deviation(chunked, batched).relative(), testing::kSameEngineRelative);
}

TEST_P(ForwardPaths, SeveralSequencesInOneBatchEqualEachAlone) {
  testing::Golden g = testing::read_golden(GetParam());
  testing::LoadedModel m = testing::load_or_fail(g.model_path);
  ASSERT_TRUE(m.model);
  const int64_t vocab = m.vocab();
  // Three sequences: one decoding after a cached prefix, two prefilling.
  std::vector<int32_t> a(g.tokens.begin(), g.tokens.begin() + 50);
  std::vector<int32_t> b(g.tokens.begin() + 10, g.tokens.begin() + 37);
  std::vector<int32_t> c(g.tokens.rbegin(), g.tokens.rbegin() + 5);
  auto cache_a = m.model->new_cache(64), cache_b = m.model->new_cache(64), cache_c = m.model->new_cache(64);
  std::vector<float> prefix_logits(49 * static_cast<size_t>(vocab));
  SequenceInput prefix{cache_a.get(), std::span<const int32_t>(a.data(), 49), true, prefix_logits.data()};
  ASSERT_TRUE(m.model->forward(std::span<SequenceInput>(&prefix, 1)).ok());

  std::vector<float> la(static_cast<size_t>(vocab)), lb(b.size() * static_cast<size_t>(vocab)), lc(static_cast<size_t>(vocab));
  SequenceInput batch[3] = {{cache_a.get(), std::span<const int32_t>(a.data() + 49, 1), false, la.data()},
                            {cache_b.get(), b, true, lb.data()},
                            {cache_c.get(), c, false, lc.data()}};
  ASSERT_TRUE(m.model->forward(batch).ok());

  std::vector<float> alone_a = testing::prompt_logits(*m.model, a);
  std::vector<float> alone_b = testing::prompt_logits(*m.model, b);
  std::vector<float> alone_c = testing::prompt_logits(*m.model, c);
  EXPECT_LE(testing::deviation(la, std::vector<float>(alone_a.end() - vocab, alone_a.end())).relative(),
            testing::kSameEngineRelative);
  EXPECT_LE(testing::deviation(lb, alone_b).relative(), testing::kSameEngineRelative);
  EXPECT_LE(testing::deviation(lc, std::vector<float>(alone_c.end() - vocab, alone_c.end())).relative(),
            testing::kSameEngineRelative);
}

TEST_P(ForwardPaths, ThreadCountDoesNotChangeLogits) {
  testing::Golden g = testing::read_golden(GetParam());
  testing::LoadedModel one = testing::load_or_fail(g.model_path, MlaMode::kAbsorbed, 1);
  testing::LoadedModel three = testing::load_or_fail(g.model_path, MlaMode::kAbsorbed, 3);
  ASSERT_TRUE(one.model && three.model);
  EXPECT_LE(testing::deviation(testing::prompt_logits(*three.model, g.tokens), testing::prompt_logits(*one.model, g.tokens)).relative(),
            testing::kSameEngineRelative);
}

INSTANTIATE_TEST_SUITE_P(TinyModels, ForwardPaths,
                         ::testing::Values("deepseek-v2-lite-tiny", "deepseek-v2-tiny", "deepseek-v3-tiny-fp8",
                                           "qwen2-tiny", "llama3-tiny"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

class MlaPaths : public ::testing::TestWithParam<std::string> {};

TEST_P(MlaPaths, AbsorbedAgreesWithNaiveAndCachesOnlyTheLatent) {
  testing::Golden g = testing::read_golden(GetParam());
  testing::LoadedModel absorbed = testing::load_or_fail(g.model_path, MlaMode::kAbsorbed);
  testing::LoadedModel naive = testing::load_or_fail(g.model_path, MlaMode::kNaive);
  ASSERT_TRUE(absorbed.model && naive.model);
  const ModelConfig& c = absorbed.model->config();
  // kv_norm(c) and the rotated k_pe: kv_lora_rank + qk_rope_head_dim values per layer per token.
  KvCacheShape latent = absorbed.model->kv_cache_shape();
  EXPECT_EQ(latent.k_width + latent.v_width, c.mla.kv_lora_rank + c.mla.qk_rope_head_dim);
  EXPECT_EQ(latent.n_layers, c.num_hidden_layers);
  KvCacheShape full = naive.model->kv_cache_shape();
  EXPECT_EQ(full.k_width + full.v_width,
            c.num_attention_heads * (c.mla.qk_nope_head_dim + c.mla.qk_rope_head_dim + c.mla.v_head_dim));
  testing::Deviation d =
      testing::deviation(testing::prompt_logits(*absorbed.model, g.tokens), testing::prompt_logits(*naive.model, g.tokens));
  std::printf("%s: absorbed vs naive relative %.3g\n", GetParam().c_str(), d.relative());
  EXPECT_LE(d.relative(), testing::kSameEngineRelative);
}

INSTANTIATE_TEST_SUITE_P(TinyModels, MlaPaths,
                         ::testing::Values("deepseek-v2-lite-tiny", "deepseek-v2-tiny", "deepseek-v3-tiny-fp8"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

TEST(KvCache, RefusesToGrowPastItsLimitAndForwardReportsIt) {
  testing::Golden g = testing::read_golden("qwen2-tiny");
  testing::LoadedModel m = testing::load_or_fail(g.model_path);
  ASSERT_TRUE(m.model);
  auto cache = m.model->new_cache(10);
  std::vector<float> logits(static_cast<size_t>(m.vocab()));
  SequenceInput in{cache.get(), std::span<const int32_t>(g.tokens.data(), 11), false, logits.data()};
  Status s = m.model->forward(std::span<SequenceInput>(&in, 1));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("context is full"), std::string::npos) << s.error().message;
  std::vector<int32_t> bad = {1, 2, 384};
  SequenceInput oob{cache.get(), bad, false, logits.data()};
  s = m.model->forward(std::span<SequenceInput>(&oob, 1));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("token id 384 is out of range"), std::string::npos) << s.error().message;
  EXPECT_EQ(cache->n_tokens(), 0);
}

}  // namespace
}  // namespace dseek
