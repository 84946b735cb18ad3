// What every architecture offers the engine: a forward pass over a batch of
// sequences, each with its own KV cache. Prompt tokens of a sequence go
// through in one pass (batched prefill); decode steps of many sequences can
// share one pass (continuous batching), because matrix products run over the
// tokens of all sequences together and only attention is per sequence.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "engine/kv_cache.h"
#include "model/config.h"
#include "util/result.h"
#include "util/thread_pool.h"

namespace dseek {

struct SequenceInput {
  KvCache* cache = nullptr;             // the tokens go at positions cache->n_tokens() onwards
  std::span<const int32_t> tokens;
  bool all_logits = false;              // logits for every token, or for the last only
  float* logits = nullptr;              // out: (all_logits ? tokens.size() : 1) rows of vocab_size
};

enum class MlaMode {
  kAbsorbed,  // default: cache kv_norm(c) and k_pe only; fold wkv_b into q and the output
  kNaive,     // decompress K and V per head, cache them (the reference path)
};

struct LoadOptions {
  ThreadPool* pool = nullptr;  // required
  MlaMode mla_mode = MlaMode::kAbsorbed;
  // Element type of the KV caches the model makes: F16 (default: half the
  // memory of F32, within tier 2 of the llama.cpp fixtures), BF16 or F32
  // (exact; the tier-1 tests use it).
  DType kv_cache_type = DType::F16;
  bool show_progress = false;
  // Keep a copy of the weights every token reads (all but the routed
  // experts), rearranged for products with several tokens at once, when the
  // kernels have such a layout (ops::pack_for_batches): faster batched decode
  // for a server, for as much memory again as those weights take (up to
  // twice for some block types). Results are the same bits either way.
  bool pack_for_batches = false;
  // At most this many bytes of packed copies (0: no limit). Packing stops at
  // the first matrix that would pass it (the output head and the first
  // layers are packed, the rest not), so a large dense model cannot double
  // its memory unasked.
  int64_t pack_budget_bytes = 0;
};

class Model {
 public:
  virtual ~Model() = default;
  virtual const ModelConfig& config() const = 0;
  virtual KvCacheShape kv_cache_shape() const = 0;
  // Runs the tokens of every sequence; on success each cache holds them.
  virtual Status forward(std::span<SequenceInput> batch) = 0;

  // Memory the packed copies for batches take (LoadOptions::pack_for_batches).
  virtual int64_t packed_weight_bytes() const { return 0; }

  std::unique_ptr<KvCache> new_cache(int64_t max_tokens) const {
    return std::make_unique<KvCache>(kv_cache_shape(), max_tokens);
  }
};

}  // namespace dseek
