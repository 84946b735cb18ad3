// KV cache element types and the batch-invariance the scheduler relies on.
//  - f16 and bf16 caches against llama.cpp's logits for the f32 GGUFs
//    (tests/data/llamacpp): within tier 2 of its README, the tier made for
//    exactly this ("F16 KV cache / f16 attention, otherwise f32").
//  - On the fast kernels (int8 activations on quantized files, f16 cache),
//    a token's logits are the same BIT FOR BIT whether it is computed alone,
//    with other sequences in one batch, in one prefill or one token at a time,
//    and with any number of threads: every per-token computation is done per
//    token, in an order that does not depend on the batch.
#include <gtest/gtest.h>

#include <cstring>

#include "logits_compare.h"
#include "model/architectures.h"
#include "test_data.h"

namespace dseek {
namespace {

struct Loaded {
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<Model> model;
};

Loaded load(const std::string& path, DType kv_type, int threads = 2, MlaMode mla = MlaMode::kAbsorbed) {
  Loaded l;
  l.pool = std::make_unique<ThreadPool>(threads);
  LoadOptions o;
  o.pool = l.pool.get();
  o.kv_cache_type = kv_type;
  o.mla_mode = mla;
  auto m = load_model(path, o);
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().message);
  if (m.ok()) l.model = std::move(m.value());
  return l;
}

// Logits of every position, the tokens fed in chunks of the given sizes.
std::vector<float> logits_in_chunks(Model& model, const std::vector<int32_t>& tokens, const std::vector<size_t>& chunks) {
  const size_t vocab = static_cast<size_t>(model.config().vocab_size);
  auto cache = model.new_cache(static_cast<int64_t>(tokens.size()));
  std::vector<float> all;
  size_t start = 0;
  for (size_t n : chunks) {
    std::vector<float> logits(n * vocab);
    SequenceInput in{cache.get(), std::span<const int32_t>(tokens.data() + start, n), true, logits.data()};
    EXPECT_TRUE(model.forward(std::span<SequenceInput>(&in, 1)).ok());
    all.insert(all.end(), logits.begin(), logits.end());
    start += n;
  }
  return all;
}

std::string fixture(const std::string& model, const std::string& file) {
  return testing::repo_path("tests/data/llamacpp/" + model + "/" + file);
}

const char* kModels[] = {"deepseek2-v2-micro", "deepseek2-v3-micro", "deepseek2-v3-micro-fp8", "llama-micro",
                         "qwen2-micro"};

TEST(KvCacheTypes, HalfPrecisionCachesAgainstLlamaCppF32) {
  for (const char* model : kModels) {
    const auto tokens = testing::read_id_list(fixture(model, "tokens.txt"));
    const auto ref = testing::read_f32_file(fixture(model, "logits-llamacpp-f32gguf.f32"));
    for (DType kv : {DType::F16, DType::BF16}) {
      Loaded l = load(fixture(model, "model-f32.gguf"), kv);
      ASSERT_TRUE(l.model);
      const auto logits = logits_in_chunks(*l.model, tokens, {tokens.size()});
      const int64_t rows = static_cast<int64_t>(tokens.size());
      const auto c = testing::compare_logits(ref.data(), logits.data(), rows, l.model->config().vocab_size);
      const std::string what = std::string(model) + " " + std::string(dtype_info(kv).name) + " cache: " + c.summary();
      std::printf("[ kv cache ] %s\n", what.c_str());
      // Tier 2 (observed: f16 max rel RMS <= 7.5e-4, bf16 <= 7.5e-3).
      EXPECT_LE(c.max_rel_rms, 1e-2) << what;
      EXPECT_GE(c.min_cos, 0.99995) << what;
      EXPECT_LE(c.mean_kl, 1e-5) << what;
      EXPECT_LE(c.max_kl, 1e-4) << what;
    }
  }
}

void expect_bits_equal(const float* a, const float* b, size_t n, const std::string& what) {
  ASSERT_EQ(std::memcmp(a, b, n * sizeof(float)), 0) << what;
}

class BatchInvariance : public ::testing::TestWithParam<std::string> {};

TEST_P(BatchInvariance, LogitsDoNotDependOnTheBatch) {
  const std::string path = testing::repo_path("tests/data/llamacpp/" + GetParam());
  Loaded two = load(path, DType::F16, 2);
  Loaded three = load(path, DType::F16, 3);
  ASSERT_TRUE(two.model && three.model);
  Model& m = *two.model;
  const size_t vocab = static_cast<size_t>(m.config().vocab_size);
  const auto all = testing::read_id_list(fixture(GetParam().substr(0, GetParam().find('/')), "tokens.txt"));
  const std::vector<int32_t> tokens(all.begin(), all.begin() + 40);

  // One prefill; token by token; uneven chunks; another thread count.
  const auto batched = logits_in_chunks(m, tokens, {tokens.size()});
  const auto one_by_one = logits_in_chunks(m, tokens, std::vector<size_t>(tokens.size(), 1));
  const auto chunked = logits_in_chunks(m, tokens, {7, 1, 13, 19});
  const auto other_threads = logits_in_chunks(*three.model, tokens, {tokens.size()});
  expect_bits_equal(batched.data(), one_by_one.data(), batched.size(), "prefill vs one token at a time");
  expect_bits_equal(batched.data(), chunked.data(), batched.size(), "prefill vs chunks");
  expect_bits_equal(batched.data(), other_threads.data(), batched.size(), "2 vs 3 threads");

  // Three sequences in one forward pass (one decoding after a prefix, two
  // prefilling) against each alone.
  const std::vector<int32_t> a(tokens.begin(), tokens.begin() + 30);
  const std::vector<int32_t> b(tokens.begin() + 5, tokens.begin() + 25);
  const std::vector<int32_t> c(tokens.rbegin(), tokens.rbegin() + 6);
  auto cache_a = m.new_cache(64), cache_b = m.new_cache(64), cache_c = m.new_cache(64);
  std::vector<float> prefix(29 * vocab);
  SequenceInput first{cache_a.get(), std::span<const int32_t>(a.data(), 29), true, prefix.data()};
  ASSERT_TRUE(m.forward(std::span<SequenceInput>(&first, 1)).ok());
  std::vector<float> la(vocab), lb(b.size() * vocab), lc(c.size() * vocab);
  SequenceInput batch[3] = {{cache_a.get(), std::span<const int32_t>(a.data() + 29, 1), false, la.data()},
                            {cache_b.get(), b, true, lb.data()},
                            {cache_c.get(), c, true, lc.data()}};
  ASSERT_TRUE(m.forward(batch).ok());
  const auto alone_a = logits_in_chunks(m, a, {a.size()});
  const auto alone_b = logits_in_chunks(m, b, {b.size()});
  const auto alone_c = logits_in_chunks(m, c, {c.size()});
  expect_bits_equal(la.data(), alone_a.data() + 29 * vocab, vocab, "decoding sequence in a batch vs alone");
  expect_bits_equal(lb.data(), alone_b.data(), lb.size(), "prefilling sequence in a batch vs alone");
  expect_bits_equal(lc.data(), alone_c.data(), lc.size(), "second prefilling sequence in a batch vs alone");
}

INSTANTIATE_TEST_SUITE_P(Micro, BatchInvariance,
                         ::testing::Values("deepseek2-v2-micro/model-q4_0.gguf", "deepseek2-v3-micro/model-q8_0.gguf",
                                           "deepseek2-v3-micro-fp8/hf", "qwen2-micro/model-q8_0.gguf",
                                           "llama-micro/model-f32.gguf"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& ch : n)
                             if (ch == '-' || ch == '/' || ch == '.') ch = '_';
                           return n;
                         });

}  // namespace
}  // namespace dseek
