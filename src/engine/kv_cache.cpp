#include "engine/kv_cache.h"

#include <algorithm>
#include <new>

namespace dseek {

KvCache::KvCache(KvCacheShape shape, int64_t max_tokens)
    : shape_(shape), max_tokens_(max_tokens), layers_(static_cast<size_t>(shape.n_layers)) {}

Status KvCache::reserve(int64_t n_total) {
  if (n_total > max_tokens_)
    return Error{"context is full: " + std::to_string(n_total) + " tokens requested, the limit is " +
                 std::to_string(max_tokens_)};
  if (n_total <= capacity_) return ok_status();
  const int64_t new_capacity = std::min(max_tokens_, std::max({n_total, 2 * capacity_, int64_t{64}}));
  try {
    for (auto& layer : layers_) {
      layer.k.resize(static_cast<size_t>(new_capacity * shape_.k_width));
      layer.v.resize(static_cast<size_t>(new_capacity * shape_.v_width));
    }
  } catch (const std::bad_alloc&) {
    return Error{"cannot allocate a KV cache for " + std::to_string(new_capacity) + " tokens (" +
                 std::to_string(new_capacity * shape_.bytes_per_token()) + " bytes)"};
  }
  capacity_ = new_capacity;
  return ok_status();
}

void KvCache::commit(int64_t n) {
  DSEEK_CHECK(n_tokens_ + n <= capacity_);
  n_tokens_ += n;
}

void KvCache::truncate(int64_t n) {
  DSEEK_CHECK(n >= 0 && n <= n_tokens_);
  n_tokens_ = n;
}

}  // namespace dseek
