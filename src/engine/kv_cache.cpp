#include "engine/kv_cache.h"

#include <algorithm>
#include <cstring>
#include <new>

#include "util/numeric_formats.h"

namespace dseek {

namespace {

// n may be 0 (the absorbed MLA cache keeps no V rows), and then the buffers
// may be null: memcpy must not see them.
void store_row(DType type, const float* in, int64_t n, uint8_t* out) {
  if (n == 0) return;
  switch (type) {
    case DType::F32:
      std::memcpy(out, in, static_cast<size_t>(n) * 4);
      break;
    case DType::F16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = f32_to_f16(in[i]);
        std::memcpy(out + 2 * i, &h, 2);
      }
      break;
    case DType::BF16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = f32_to_bf16(in[i]);
        std::memcpy(out + 2 * i, &h, 2);
      }
      break;
    default:
      DSEEK_CHECK(false && "not a KV cache type");
  }
}

void load_row(DType type, const uint8_t* in, int64_t n, float* out) {
  if (n == 0) return;
  switch (type) {
    case DType::F32:
      std::memcpy(out, in, static_cast<size_t>(n) * 4);
      break;
    case DType::F16:
    case DType::BF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, in + 2 * i, 2);
        out[i] = type == DType::F16 ? f16_to_f32(h) : bf16_to_f32(h);
      }
      break;
    default:
      DSEEK_CHECK(false && "not a KV cache type");
  }
}

}  // namespace

bool is_kv_cache_type(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

KvCache::KvCache(KvCacheShape shape, int64_t max_tokens)
    : shape_(shape), max_tokens_(max_tokens), layers_(static_cast<size_t>(shape.n_layers)) {
  DSEEK_CHECK(is_kv_cache_type(shape.type));
}

Status KvCache::reserve(int64_t n_total) {
  if (n_total > max_tokens_)
    return Error{"context is full: " + std::to_string(n_total) + " tokens requested, the limit is " +
                 std::to_string(max_tokens_)};
  if (n_total <= capacity_) return ok_status();
  const int64_t new_capacity = std::min(max_tokens_, std::max({n_total, 2 * capacity_, int64_t{64}}));
  const int64_t e = shape_.element_bytes();
  try {
    for (auto& layer : layers_) {
      layer.k.resize(static_cast<size_t>(new_capacity * shape_.k_width * e));
      layer.v.resize(static_cast<size_t>(new_capacity * shape_.v_width * e));
    }
  } catch (const std::bad_alloc&) {
    return Error{"cannot allocate a KV cache for " + std::to_string(new_capacity) + " tokens (" +
                 std::to_string(new_capacity * shape_.bytes_per_token()) + " bytes)"};
  }
  capacity_ = new_capacity;
  return ok_status();
}

void KvCache::write_k(int64_t layer, int64_t pos, const float* row) {
  DSEEK_CHECK(pos >= 0 && pos < capacity_);
  store_row(shape_.type, row, shape_.k_width, layers_[layer].k.data() + pos * shape_.k_width * shape_.element_bytes());
}

void KvCache::write_v(int64_t layer, int64_t pos, const float* row) {
  DSEEK_CHECK(pos >= 0 && pos < capacity_);
  store_row(shape_.type, row, shape_.v_width, layers_[layer].v.data() + pos * shape_.v_width * shape_.element_bytes());
}

void KvCache::export_rows(int64_t begin, int64_t n, float* out) const {
  DSEEK_CHECK(begin >= 0 && begin + n <= n_tokens_);
  const int64_t e = shape_.element_bytes();
  for (const Layer& layer : layers_) {
    load_row(shape_.type, layer.k.data() + begin * shape_.k_width * e, n * shape_.k_width, out);
    out += n * shape_.k_width;
    load_row(shape_.type, layer.v.data() + begin * shape_.v_width * e, n * shape_.v_width, out);
    out += n * shape_.v_width;
  }
}

Status KvCache::import_rows(int64_t n, const float* rows) {
  DSEEK_TRY(reserve(n_tokens_ + n));
  const int64_t e = shape_.element_bytes();
  for (Layer& layer : layers_) {
    store_row(shape_.type, rows, n * shape_.k_width, layer.k.data() + n_tokens_ * shape_.k_width * e);
    rows += n * shape_.k_width;
    store_row(shape_.type, rows, n * shape_.v_width, layer.v.data() + n_tokens_ * shape_.v_width * e);
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
