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

void KvCache::export_rows(int64_t begin, int64_t n, float* out) const {
  DSEEK_CHECK(begin >= 0 && begin + n <= n_tokens_);
  for (const Layer& layer : layers_) {
    std::copy_n(layer.k.data() + begin * shape_.k_width, n * shape_.k_width, out);
    out += n * shape_.k_width;
    std::copy_n(layer.v.data() + begin * shape_.v_width, n * shape_.v_width, out);
    out += n * shape_.v_width;
  }
}

Status KvCache::import_rows(int64_t n, const float* rows) {
  DSEEK_TRY(reserve(n_tokens_ + n));
  for (Layer& layer : layers_) {
    std::copy_n(rows, n * shape_.k_width, layer.k.data() + n_tokens_ * shape_.k_width);
    rows += n * shape_.k_width;
    std::copy_n(rows, n * shape_.v_width, layer.v.data() + n_tokens_ * shape_.v_width);
    rows += n * shape_.v_width;
  }
  n_tokens_ += n;
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
