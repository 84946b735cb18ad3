// Context caching as DeepSeek's API does it: the KV state of prompt prefixes
// from token 0, in 64-token blocks, kept in RAM and on disk so it survives a
// restart. A block's key chains the model, the namespace (one per API key:
// users never share entries), the previous block's key and the block's
// tokens. Both tiers are bounded and evict the least recently used block.
// Disk entries are written to a temporary file, synced and renamed, and carry
// checksums of header and payload: a torn or corrupted entry is detected,
// dropped and never served.
#pragma once

#include <array>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "engine/kv_cache.h"
#include "util/result.h"

namespace dseek {

struct PrefixCacheOptions {
  int64_t ram_bytes = int64_t{1} << 30;
  std::string disk_dir;  // empty: RAM only
  int64_t disk_bytes = int64_t{8} << 30;
};

struct PrefixCacheStats {
  int64_t ram_blocks = 0, ram_bytes = 0;
  int64_t disk_blocks = 0, disk_bytes = 0;
  int64_t hit_tokens = 0;        // restored so far
  int64_t corrupt_dropped = 0;   // entries found damaged and discarded
};

class PrefixCache {
 public:
  static constexpr int64_t kBlockTokens = 64;

  // model_fingerprint identifies the weights: entries of another model are never used.
  PrefixCache(KvCacheShape shape, uint64_t model_fingerprint, PrefixCacheOptions options);
  ~PrefixCache();
  PrefixCache(const PrefixCache&) = delete;
  PrefixCache& operator=(const PrefixCache&) = delete;

  // Creates the disk folder and indexes the entries already there (headers
  // only; payloads are checked when used). Unfinished temporary files are removed.
  Status open();

  // Restores into `cache` (which must be empty) the longest cached prefix of
  // `tokens` that is a whole number of blocks and at most max_tokens long.
  // Returns the number of tokens restored.
  int64_t restore(std::string_view ns, std::span<const int32_t> tokens, int64_t max_tokens, KvCache& cache);

  // Offers the whole blocks among the first cache.n_tokens() tokens.
  void store(std::string_view ns, std::span<const int32_t> tokens, const KvCache& cache);

  // Waits until queued disk writes are done (tests, shutdown).
  void flush();

  PrefixCacheStats stats() const;

 private:
  struct Block {
    uint64_t parent = 0;
    std::array<int32_t, kBlockTokens> tokens{};
    std::shared_ptr<const std::vector<float>> rows;  // null when only on disk
    bool on_disk = false;
    bool write_pending = false;  // queued for the disk writer, which holds the rows
    uint64_t last_use = 0;
  };

  uint64_t namespace_root(std::string_view ns) const;
  uint64_t block_key(uint64_t parent, std::span<const int32_t> tokens) const;
  std::string path_of(uint64_t key) const;
  std::shared_ptr<const std::vector<float>> load_rows(uint64_t key, Block& block);
  void drop(uint64_t key);
  void evict();
  void writer_loop();

  KvCacheShape shape_;
  uint64_t fingerprint_;
  PrefixCacheOptions options_;
  int64_t block_floats_;

  mutable std::mutex mutex_;
  std::unordered_map<uint64_t, Block> blocks_;
  uint64_t clock_ = 0;
  PrefixCacheStats stats_;

  // Disk writes happen on a background thread so decoding never waits for them.
  std::thread writer_;
  std::condition_variable write_wake_, write_done_;
  std::deque<std::pair<uint64_t, std::shared_ptr<const std::vector<float>>>> write_queue_;
  bool writing_ = false;
  bool stopping_ = false;
};

}  // namespace dseek
