// The 32-element block types: Q8_0, Q4_0, Q4_1, Q5_0, Q5_1. Quantizers
// follow llama.cpp's quantize_row_*_ref step for step (the same float
// operations in the same order), so their output is byte-identical.
#include <algorithm>
#include <cfloat>

#include "quant/blocks.h"
#include "quant/formats.h"
#include "quant/quant.h"

namespace dseek::quant {

namespace {

// llama.cpp converts with a C cast to an integer type, which truncates;
// the guard only keeps non-finite input (garbage in) from being undefined.
inline int truncate(float f) { return f > -1e9f && f < 1e9f ? static_cast<int>(f) : 0; }

// The value of largest magnitude in a block, with its sign (the first one
// on ties, as llama.cpp scans).
inline float signed_absmax(const float* x, int n) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < n; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

inline void min_max(const float* x, int n, float& min, float& max) {
  min = FLT_MAX;
  max = -FLT_MAX;
  for (int j = 0; j < n; ++j) {
    min = std::min(min, x[j]);
    max = std::max(max, x[j]);
  }
}

}  // namespace

void dequantize_q8_0(const uint8_t* src, float* y, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, src += Q8_0Layout::kBytes, y += kQK) {
    const float d = load_half(src + Q8_0Layout::kD);
    const int8_t* q = reinterpret_cast<const int8_t*>(src + Q8_0Layout::kQs);
    for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(q[j]) * d;
  }
}

void quantize_q8_0(const float* x, uint8_t* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, dst += Q8_0Layout::kBytes, x += kQK) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    store_half(dst + Q8_0Layout::kD, d);
    int8_t* q = reinterpret_cast<int8_t*>(dst + Q8_0Layout::kQs);
    for (int j = 0; j < kQK; ++j) q[j] = static_cast<int8_t>(truncate(std::round(x[j] * id)));
  }
}

void dequantize_q4_0(const uint8_t* src, float* y, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, src += Q4_0Layout::kBytes, y += kQK) {
    const float d = load_half(src + Q4_0Layout::kD);
    const uint8_t* q = src + Q4_0Layout::kQs;
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = static_cast<float>((q[j] & 0xF) - 8) * d;
      y[j + kQK / 2] = static_cast<float>((q[j] >> 4) - 8) * d;
    }
  }
}

void quantize_q4_0(const float* x, uint8_t* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, dst += Q4_0Layout::kBytes, x += kQK) {
    // The extreme value maps to -8 exactly, so the full range [-8, 7] is used.
    const float d = signed_absmax(x, kQK) / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    store_half(dst + Q4_0Layout::kD, d);
    uint8_t* q = dst + Q4_0Layout::kQs;
    for (int j = 0; j < kQK / 2; ++j) {
      const int lo = std::min(15, truncate(x[j] * id + 8.5f));
      const int hi = std::min(15, truncate(x[j + kQK / 2] * id + 8.5f));
      q[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

void dequantize_q4_1(const uint8_t* src, float* y, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, src += Q4_1Layout::kBytes, y += kQK) {
    const float d = load_half(src + Q4_1Layout::kD);
    const float m = load_half(src + Q4_1Layout::kM);
    const uint8_t* q = src + Q4_1Layout::kQs;
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = static_cast<float>(q[j] & 0xF) * d + m;
      y[j + kQK / 2] = static_cast<float>(q[j] >> 4) * d + m;
    }
  }
}

void quantize_q4_1(const float* x, uint8_t* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, dst += Q4_1Layout::kBytes, x += kQK) {
    float min, max;
    min_max(x, kQK, min, max);
    const float d = (max - min) / 15.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    store_half(dst + Q4_1Layout::kD, d);
    store_half(dst + Q4_1Layout::kM, min);
    uint8_t* q = dst + Q4_1Layout::kQs;
    for (int j = 0; j < kQK / 2; ++j) {
      const int lo = std::min(15, truncate((x[j] - min) * id + 0.5f));
      const int hi = std::min(15, truncate((x[j + kQK / 2] - min) * id + 0.5f));
      q[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

void dequantize_q5_0(const uint8_t* src, float* y, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, src += Q5_0Layout::kBytes, y += kQK) {
    const float d = load_half(src + Q5_0Layout::kD);
    uint32_t qh;
    std::memcpy(&qh, src + Q5_0Layout::kQh, 4);
    const uint8_t* q = src + Q5_0Layout::kQs;
    for (int j = 0; j < kQK / 2; ++j) {
      const int lo = (q[j] & 0xF) | static_cast<int>(((qh >> j) & 1u) << 4);
      const int hi = (q[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
      y[j] = static_cast<float>(lo - 16) * d;
      y[j + kQK / 2] = static_cast<float>(hi - 16) * d;
    }
  }
}

void quantize_q5_0(const float* x, uint8_t* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, dst += Q5_0Layout::kBytes, x += kQK) {
    const float d = signed_absmax(x, kQK) / -16.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    store_half(dst + Q5_0Layout::kD, d);
    uint8_t* q = dst + Q5_0Layout::kQs;
    uint32_t qh = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      const int lo = std::min(31, truncate(x[j] * id + 16.5f));
      const int hi = std::min(31, truncate(x[j + kQK / 2] * id + 16.5f));
      q[j] = static_cast<uint8_t>((lo & 0xF) | ((hi & 0xF) << 4));
      qh |= static_cast<uint32_t>((lo >> 4) & 1) << j;
      qh |= static_cast<uint32_t>((hi >> 4) & 1) << (j + kQK / 2);
    }
    std::memcpy(dst + Q5_0Layout::kQh, &qh, 4);
  }
}

void dequantize_q5_1(const uint8_t* src, float* y, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, src += Q5_1Layout::kBytes, y += kQK) {
    const float d = load_half(src + Q5_1Layout::kD);
    const float m = load_half(src + Q5_1Layout::kM);
    uint32_t qh;
    std::memcpy(&qh, src + Q5_1Layout::kQh, 4);
    const uint8_t* q = src + Q5_1Layout::kQs;
    for (int j = 0; j < kQK / 2; ++j) {
      const int lo = (q[j] & 0xF) | static_cast<int>(((qh >> j) & 1u) << 4);
      const int hi = (q[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
      y[j] = static_cast<float>(lo) * d + m;
      y[j + kQK / 2] = static_cast<float>(hi) * d + m;
    }
  }
}

void quantize_q5_1(const float* x, uint8_t* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, dst += Q5_1Layout::kBytes, x += kQK) {
    float min, max;
    min_max(x, kQK, min, max);
    const float d = (max - min) / 31.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    store_half(dst + Q5_1Layout::kD, d);
    store_half(dst + Q5_1Layout::kM, min);
    uint8_t* q = dst + Q5_1Layout::kQs;
    uint32_t qh = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      // llama.cpp casts to uint8_t here without a clamp; values are in [0, 31.5].
      const int lo = truncate((x[j] - min) * id + 0.5f) & 0xFF;
      const int hi = truncate((x[j + kQK / 2] - min) * id + 0.5f) & 0xFF;
      q[j] = static_cast<uint8_t>((lo & 0xF) | ((hi & 0xF) << 4));
      qh |= static_cast<uint32_t>((lo >> 4) & 1) << j;
      qh |= static_cast<uint32_t>((hi >> 4) & 1) << (j + kQK / 2);
    }
    std::memcpy(dst + Q5_1Layout::kQh, &qh, 4);
  }
}

}  // namespace dseek::quant
