// The per-sequence attention cache: for every layer, one row of keys and one
// of values per token. What a row holds is the architecture's choice:
// dense models store K and V per kv-head; MLA's absorbed path stores only
// kv_norm(c) and the rotated k_pe (kv_lora_rank + qk_rope_head_dim values, no
// separate V: the latent is both); MLA's naive path stores full per-head K/V.
#pragma once

#include <cstdint>
#include <vector>

#include "util/result.h"

namespace dseek {

struct KvCacheShape {
  int64_t n_layers = 0;
  int64_t k_width = 0;  // floats per token per layer
  int64_t v_width = 0;  // 0 when values live inside the key rows

  int64_t bytes_per_token() const { return n_layers * (k_width + v_width) * static_cast<int64_t>(sizeof(float)); }
};

class KvCache {
 public:
  KvCache(KvCacheShape shape, int64_t max_tokens);

  const KvCacheShape& shape() const { return shape_; }
  int64_t n_tokens() const { return n_tokens_; }
  int64_t max_tokens() const { return max_tokens_; }

  // Makes room for `n_total` tokens (growing geometrically); fails past max_tokens.
  Status reserve(int64_t n_total);
  // Tokens [n_tokens, n_tokens + n) were written by a forward pass.
  void commit(int64_t n);
  // Forgets everything from position n on (e.g. to reuse a shared prefix).
  void truncate(int64_t n);

  // Rows of positions [begin, begin + n) of every layer, layer by layer (k
  // then v): the unit the prefix cache stores. floats_per_token() each.
  int64_t floats_per_token() const { return shape_.n_layers * (shape_.k_width + shape_.v_width); }
  void export_rows(int64_t begin, int64_t n, float* out) const;
  // Writes rows for positions [n_tokens, n_tokens + n) and commits them.
  Status import_rows(int64_t n, const float* rows);

  float* k(int64_t layer, int64_t pos) { return layers_[layer].k.data() + pos * shape_.k_width; }
  float* v(int64_t layer, int64_t pos) { return layers_[layer].v.data() + pos * shape_.v_width; }

 private:
  struct Layer {
    std::vector<float> k, v;
  };
  KvCacheShape shape_;
  int64_t max_tokens_;
  int64_t capacity_ = 0;
  int64_t n_tokens_ = 0;
  std::vector<Layer> layers_;
};

}  // namespace dseek
