// The decoder-only skeleton all supported families share:
//   h = embed(tokens)
//   per layer: h += attention(rmsnorm(h)); h += feed_forward(rmsnorm(h))
//   logits = lm_head(rmsnorm(h))
// An architecture supplies attention and feed_forward for its layers.
#pragma once

#include <memory>
#include <vector>

#include "kernels/kernels.h"

#include "model/model.h"
#include "model/rope.h"
#include "weights/weight_store.h"

namespace dseek {

// The rows of one forward pass: the new tokens of every sequence, back to back.
struct ForwardBatch {
  struct Sequence {
    KvCache* cache;
    int64_t first_row;  // row of its first new token
    int64_t n_rows;
    int64_t first_pos;  // position of its first new token (tokens already cached)
  };
  int64_t n_rows = 0;
  std::vector<Sequence> sequences;
  std::vector<int64_t> positions;        // per row
  std::vector<float> rope_cos, rope_sin;  // per row: [n_rows][rope pairs]
};

class TransformerModel : public Model {
 public:
  const ModelConfig& config() const override { return config_; }
  Status forward(std::span<SequenceInput> batch) override;
  int64_t packed_weight_bytes() const override {
    int64_t n = 0;
    for (const auto& p : packed_) n += p->n_bytes;
    return n;
  }

 protected:
  TransformerModel(ModelConfig config, WeightStore weights, const LoadOptions& options)
      : config_(std::move(config)),
        weights_(std::move(weights)),
        pool_(*options.pool),
        kv_cache_type_(options.kv_cache_type),
        pack_for_batches_(options.pack_for_batches),
        pack_budget_bytes_(options.pack_budget_bytes) {}

  // Embeddings, the two norms of each layer, the final norm and the head.
  Status load_common();
  // Names checkpoint tensors no loader took (a sign of a layout we misread).
  void warn_unused_tensors() const;
  // When the options ask for it, gives w the kernels' packed copy for
  // batched products (LoadOptions::pack_for_batches), owned by the model.
  void pack_for_batches(Tensor& w);

  // x: normalized hidden states [n_rows][hidden]; out: [n_rows][hidden].
  // attention also writes the new tokens' rows into each sequence's cache.
  virtual void attention(int64_t layer, const ForwardBatch& batch, const float* x, float* out) = 0;
  virtual void feed_forward(int64_t layer, const ForwardBatch& batch, const float* x, float* out) = 0;

  ModelConfig config_;
  WeightStore weights_;  // owns the file mappings the tensors point into
  ThreadPool& pool_;
  DType kv_cache_type_;  // element type of the caches new_cache() makes
  bool pack_for_batches_;
  int64_t pack_budget_bytes_;
  std::vector<std::unique_ptr<kernels::PackedWeights>> packed_;
  RopeFrequencies rope_;

  Tensor embed_tokens_;
  Tensor lm_head_;  // embed_tokens_ when tied
  std::vector<float> final_norm_;
  std::vector<std::vector<float>> input_norm_;
  std::vector<std::vector<float>> post_attention_norm_;
};

}  // namespace dseek
