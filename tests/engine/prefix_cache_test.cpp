// Prefix caching: restored KV state gives the logits a full computation
// gives; entries are isolated per namespace, survive a restart, are bounded
// with LRU eviction, and a damaged entry is detected and never served.
#include "engine/prefix_cache.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "engine/scheduler.h"
#include "model/tolerances.h"
#include "model_runner.h"
#include "test_data.h"
#include "test_files.h"

namespace dseek {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// qwen2-tiny has 256 positions: room for three 64-token blocks and more.
struct Fixture {
  testing::Golden golden = testing::read_golden("qwen2-tiny");
  testing::LoadedModel m = testing::load_or_fail(golden.model_path);
  std::vector<int32_t> prompt;
  Fixture() {
    for (int i = 0; i < 3; ++i) prompt.insert(prompt.end(), golden.tokens.begin(), golden.tokens.end());
    prompt.resize(230);
  }
  std::unique_ptr<KvCache> filled_cache(size_t n) {
    auto cache = m.model->new_cache(256);
    std::vector<float> logits(n * static_cast<size_t>(m.vocab()));
    SequenceInput in{cache.get(), std::span<const int32_t>(prompt.data(), n), true, logits.data()};
    EXPECT_TRUE(m.model->forward(std::span<SequenceInput>(&in, 1)).ok());
    return cache;
  }
  // Logits of the prompt's remaining tokens after a cache holding its first part.
  std::vector<float> continue_from(KvCache& cache) {
    const size_t start = static_cast<size_t>(cache.n_tokens());
    std::vector<float> logits((prompt.size() - start) * static_cast<size_t>(m.vocab()));
    SequenceInput in{&cache, std::span<const int32_t>(prompt.data() + start, prompt.size() - start), true, logits.data()};
    EXPECT_TRUE(m.model->forward(std::span<SequenceInput>(&in, 1)).ok());
    return logits;
  }
};

TEST(PrefixCache, RestoredStateGivesTheSameLogitsAsComputingIt) {
  Fixture f;
  ASSERT_TRUE(f.m.model);
  PrefixCache pc(f.m.model->kv_cache_shape(), 1, {});
  ASSERT_TRUE(pc.open().ok());
  auto full = f.filled_cache(f.prompt.size());
  pc.store("alice", f.prompt, *full);
  EXPECT_EQ(pc.stats().ram_blocks, 3);

  auto fresh = f.m.model->new_cache(256);
  std::vector<float> reference = f.continue_from(*fresh);  // no cache: all 230 tokens
  auto restored = f.m.model->new_cache(256);
  EXPECT_EQ(pc.restore("alice", f.prompt, 229, *restored), 192);
  std::vector<float> after = f.continue_from(*restored);
  std::vector<float> tail(reference.end() - static_cast<long>(after.size()), reference.end());
  EXPECT_LE(testing::deviation(after, tail).relative(), testing::kSameEngineRelative);
  // A prompt that shares only the first block restores only that block.
  std::vector<int32_t> other = f.prompt;
  other[100] = (other[100] + 1) % 300;
  auto partial = f.m.model->new_cache(256);
  EXPECT_EQ(pc.restore("alice", other, 229, *partial), 64);
}

TEST(PrefixCache, NamespacesAreIsolated) {
  Fixture f;
  ASSERT_TRUE(f.m.model);
  PrefixCache pc(f.m.model->kv_cache_shape(), 1, {});
  ASSERT_TRUE(pc.open().ok());
  pc.store("alice", f.prompt, *f.filled_cache(130));
  auto cache = f.m.model->new_cache(256);
  EXPECT_EQ(pc.restore("bob", f.prompt, 229, *cache), 0);
  EXPECT_EQ(pc.restore("alice", f.prompt, 229, *cache), 128);
}

TEST(PrefixCache, SurvivesARestartAndDetectsDamage) {
  Fixture f;
  ASSERT_TRUE(f.m.model);
  const std::string dir = testing::make_temp_dir("pcache");
  PrefixCacheOptions options;
  options.disk_dir = dir;
  {
    PrefixCache pc(f.m.model->kv_cache_shape(), 7, options);
    ASSERT_TRUE(pc.open().ok());
    pc.store("alice", f.prompt, *f.filled_cache(200));
    pc.flush();
    EXPECT_EQ(pc.stats().disk_blocks, 3);
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().extension() == ".kv") files.push_back(e.path());
  ASSERT_EQ(files.size(), 3u);
  {
    PrefixCache pc(f.m.model->kv_cache_shape(), 7, options);  // "restart"
    ASSERT_TRUE(pc.open().ok());
    auto cache = f.m.model->new_cache(256);
    EXPECT_EQ(pc.restore("alice", f.prompt, 229, *cache), 192);
    std::vector<float> after = f.continue_from(*cache);
    auto fresh = f.m.model->new_cache(256);
    std::vector<float> reference = f.continue_from(*fresh);
    std::vector<float> tail(reference.end() - static_cast<long>(after.size()), reference.end());
    EXPECT_LE(testing::deviation(after, tail).relative(), testing::kSameEngineRelative);
  }
  // Another model (fingerprint) never sees these entries.
  {
    PrefixCache pc(f.m.model->kv_cache_shape(), 8, options);
    ASSERT_TRUE(pc.open().ok());
    auto cache = f.m.model->new_cache(256);
    EXPECT_EQ(pc.restore("alice", f.prompt, 229, *cache), 0);
  }
  // Flip one payload byte of one block, truncate another, leave a torn temporary file.
  std::sort(files.begin(), files.end());
  std::vector<std::string> blobs;
  for (const auto& p : files) blobs.push_back(testing::read_file(p.string()));
  std::string damaged = blobs[0];
  damaged[damaged.size() - 10] ^= 0x40;
  testing::write_file(files[0].string(), damaged);
  fs::resize_file(files[1], fs::file_size(files[1]) - 4);
  testing::write_file(files[2].string() + ".tmp", "partial write");
  {
    PrefixCache pc(f.m.model->kv_cache_shape(), 7, options);
    ASSERT_TRUE(pc.open().ok());
    EXPECT_FALSE(fs::exists(files[2].string() + ".tmp"));
    EXPECT_EQ(pc.stats().corrupt_dropped, 1);  // the truncated file, at open
    auto cache = f.m.model->new_cache(256);
    int64_t restored = pc.restore("alice", f.prompt, 229, *cache);
    // Whichever block was flipped, no damaged block is served: the chain stops before it.
    EXPECT_LT(restored, 192);
    EXPECT_EQ(restored % 64, 0);
    if (restored > 0) {
      std::vector<float> after = f.continue_from(*cache);
      auto fresh = f.m.model->new_cache(256);
      std::vector<float> reference = f.continue_from(*fresh);
      std::vector<float> tail(reference.end() - static_cast<long>(after.size()), reference.end());
      EXPECT_LE(testing::deviation(after, tail).relative(), testing::kSameEngineRelative);
    }
  }
}

TEST(PrefixCache, BoundedWithLeastRecentlyUsedEviction) {
  Fixture f;
  ASSERT_TRUE(f.m.model);
  const KvCacheShape shape = f.m.model->kv_cache_shape();
  const int64_t block_bytes = PrefixCache::kBlockTokens * shape.n_layers * (shape.k_width + shape.v_width) * 4;
  PrefixCacheOptions options;
  options.ram_bytes = 2 * block_bytes;
  PrefixCache pc(shape, 1, options);
  ASSERT_TRUE(pc.open().ok());
  auto cache = f.filled_cache(200);
  pc.store("a", f.prompt, *cache);
  EXPECT_EQ(pc.stats().ram_blocks, 2);  // the oldest (first) block went
  auto restored = f.m.model->new_cache(256);
  EXPECT_EQ(pc.restore("a", f.prompt, 229, *restored), 0);  // the chain starts with the evicted block
}

TEST(PrefixCache, SchedulerReportsHitsOnARepeatedPrefix) {
  Fixture f;
  ASSERT_TRUE(f.m.model);
  PrefixCache pc(f.m.model->kv_cache_shape(), 1, {});
  ASSERT_TRUE(pc.open().ok());
  SchedulerOptions options;
  options.max_context = 256;
  options.prefix_cache = &pc;
  Scheduler scheduler(*f.m.model, options);
  auto run = [&](const std::string& ns) {
    GenerationRequest r;
    r.prompt = std::vector<int32_t>(f.prompt.begin(), f.prompt.begin() + 150);
    r.sampling.temperature = 0;
    r.max_new_tokens = 8;
    r.cache_namespace = ns;
    auto stream = scheduler.submit(r).stream;
    GenerationEvent e;
    std::vector<int32_t> tokens;
    while (stream->next(e, 60s)) {
      if (e.kind == GenerationEvent::Kind::kFinished) return std::pair{tokens, e};
      tokens.push_back(e.token);
    }
    ADD_FAILURE();
    return std::pair{tokens, e};
  };
  auto [first, first_end] = run("k1");
  EXPECT_EQ(first_end.cached_prompt_tokens, 0);
  auto [second, second_end] = run("k1");
  EXPECT_EQ(second_end.cached_prompt_tokens, 128);
  EXPECT_EQ(second, first);
  auto [third, third_end] = run("k2");
  EXPECT_EQ(third_end.cached_prompt_tokens, 0);
}

}  // namespace
}  // namespace dseek
