// Scalar twins of the int8 (and bf16 dot-product) kernels: what the fast
// kernels compute, written plainly. Activations are quantized per token
// (int8_format.h); each weight block's integer part is decoded here straight
// from its bytes (independently of src/quant and of the SIMD unpackers), and
// the floats are combined in the canonical order. The SIMD kernels must match
// these bit for bit; these in turn must stay within the activation
// quantization's error bound of the definition (dequantize, f32 dot), which
// tests/kernels checks.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/int8_format.h"
#include "kernels/kernels.h"
#include "quant/blocks.h"
#include "util/numeric_formats.h"

namespace dseek::kernels {

namespace {

using quant::load_half;

// round(v) as the SIMD conversion does it (nearest even; NaN and values out
// of int32 range give INT32_MIN), saturated to int8.
int8_t quantize_value(float v) {
  int32_t i = INT32_MIN;
  if (std::fabs(v) < 2147483520.0f) i = round_to_even(v);
  return static_cast<int8_t>(std::clamp<int32_t>(i, -128, 127));
}

void quantize_q8(const float* x, const ActLayout& l, uint8_t* out) {
  std::memset(out, 0, static_cast<size_t>(l.bytes));
  ActView v{out, &l};
  int8_t* q = reinterpret_cast<int8_t*>(out);
  float* d = const_cast<float*>(v.d());
  int32_t* sum16 = const_cast<int32_t*>(v.sum16());
  int32_t* sum32 = const_cast<int32_t*>(v.sum32());
  float* sx = const_cast<float*>(v.sx());
  for (int64_t b = 0; b < l.n / l.block; ++b) {
    const float* xb = x + b * l.block;
    float amax = 0.0f;
    for (int64_t i = 0; i < l.block; ++i) amax = std::max(amax, std::fabs(xb[i]));
    const float scale = amax / 127.0f;
    const float inv = scale != 0.0f ? 1.0f / scale : 0.0f;
    d[b] = scale;
    for (int64_t i = 0; i < l.block; ++i) q[b * l.block + i] = quantize_value(xb[i] * inv);
  }
  for (int64_t g = 0; g < l.n / 16; ++g) {
    int32_t s = 0;
    for (int i = 0; i < 16; ++i) s += q[g * 16 + i];
    sum16[g] = s;
  }
  for (int64_t g = 0; g < l.n / 32; ++g) {
    sum32[g] = sum16[2 * g] + sum16[2 * g + 1];
    sx[g] = l.block == 32 ? d[g] * static_cast<float>(sum32[g]) : 0.0f;
  }
}

void quantize_bf16_split(const float* x, const ActLayout& l, uint8_t* out) {
  std::memset(out, 0, static_cast<size_t>(l.bytes));
  uint16_t* hi = reinterpret_cast<uint16_t*>(out);
  uint16_t* mid = reinterpret_cast<uint16_t*>(out + l.off_d);
  uint16_t* lo = reinterpret_cast<uint16_t*>(out + l.off_sum16);
  for (int64_t i = 0; i < l.n; ++i) {
    // Each residual is exact in f32; three bf16 hold all 24 significant bits.
    hi[i] = f32_to_bf16(x[i]);
    const float r1 = x[i] - bf16_to_f32(hi[i]);
    mid[i] = f32_to_bf16(r1);
    lo[i] = f32_to_bf16(r1 - bf16_to_f32(mid[i]));
  }
}

}  // namespace

void quantize_act_reference(const float* x, const ActLayout& layout, uint8_t* out) {
  if (layout.format == ActFormat::kBF16Split) quantize_bf16_split(x, layout, out);
  else quantize_q8(x, layout, out);
}

namespace {

// The integer value (offset removed) of element i of a 32-element block.
template <DType T>
int legacy_value(const uint8_t* blk, int i) {
  if constexpr (T == DType::Q8_0) {
    return static_cast<int8_t>(blk[quant::Q8_0Layout::kQs + i]);
  } else if constexpr (T == DType::Q4_0 || T == DType::Q4_1) {
    const uint8_t* qs = blk + (T == DType::Q4_0 ? quant::Q4_0Layout::kQs : quant::Q4_1Layout::kQs);
    const int nibble = i < 16 ? (qs[i] & 0xF) : (qs[i - 16] >> 4);
    return T == DType::Q4_0 ? nibble - 8 : nibble;
  } else {
    static_assert(T == DType::Q5_0 || T == DType::Q5_1);
    const int qh_at = T == DType::Q5_0 ? quant::Q5_0Layout::kQh : quant::Q5_1Layout::kQh;
    const int qs_at = T == DType::Q5_0 ? quant::Q5_0Layout::kQs : quant::Q5_1Layout::kQs;
    uint32_t qh;
    std::memcpy(&qh, blk + qh_at, 4);
    const uint8_t* qs = blk + qs_at;
    const int nibble = i < 16 ? (qs[i] & 0xF) : (qs[i - 16] >> 4);
    const int v = nibble | static_cast<int>(((qh >> i) & 1u) << 4);
    return T == DType::Q5_0 ? v - 16 : v;
  }
}

template <DType T>
constexpr bool legacy_has_min = T == DType::Q4_1 || T == DType::Q5_1;

template <DType T>
float legacy_one(const uint8_t* row, int64_t nb, const ActView& a) {
  const int64_t bytes = dtype_info(T).block_bytes;
  float p[16] = {};
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = row + b * bytes;
    int32_t isum = 0;
    for (int i = 0; i < 32; ++i) isum += legacy_value<T>(blk, i) * a.q()[b * 32 + i];
    const float dw = load_half(blk);
    float& acc = p[b % 16];
    acc = std::fma(static_cast<float>(isum), dw * a.d()[b], acc);
    if constexpr (legacy_has_min<T>) acc = std::fma(load_half(blk + 2), a.sx()[b], acc);
  }
  return tree16(p);
}

// Q3_K's 16 six-bit scales (stored as value + 32) from its 12 bytes.
void q3k_scales(const uint8_t* s, int out[16]) {
  for (int g = 0; g < 16; ++g) {
    const int low = g < 8 ? (s[g] & 0xF) : (s[g - 8] >> 4);
    const int high = (s[8 + g % 4] >> (2 * (g / 4))) & 3;
    out[g] = (low | (high << 4)) - 32;
  }
}

// Per-group integer scales and mins, and the integer value of element e, of
// a 256-element super-block. Groups are 16 (Q2_K, Q3_K, Q6_K) or 32 (Q4_K,
// Q5_K) consecutive elements.
template <DType T>
struct KBlock {
  static constexpr int kGroup = (T == DType::Q4_K || T == DType::Q5_K) ? 32 : 16;
  static constexpr bool kHasMin = T == DType::Q2_K || T == DType::Q4_K || T == DType::Q5_K;
  int scale[16] = {};
  int min[16] = {};
  float d = 0, dmin = 0;
  const uint8_t* blk = nullptr;

  explicit KBlock(const uint8_t* b) : blk(b) {
    if constexpr (T == DType::Q2_K) {
      for (int g = 0; g < 16; ++g) {
        scale[g] = b[quant::Q2_KLayout::kScales + g] & 0xF;
        min[g] = b[quant::Q2_KLayout::kScales + g] >> 4;
      }
      d = load_half(b + quant::Q2_KLayout::kD);
      dmin = load_half(b + quant::Q2_KLayout::kDmin);
    } else if constexpr (T == DType::Q3_K) {
      q3k_scales(b + quant::Q3_KLayout::kScales, scale);
      d = load_half(b + quant::Q3_KLayout::kD);
    } else if constexpr (T == DType::Q4_K || T == DType::Q5_K) {
      const uint8_t* s = b + quant::Q4_KLayout::kScales;  // same offset in Q5_K
      for (int g = 0; g < 8; ++g) {
        // Bytes 0-3 scales 0-3, 4-7 mins 0-3 (low six bits); 8-11 the low
        // four bits of scales / mins 4-7, whose top two bits sit above the
        // six-bit fields of bytes 0-7.
        if (g < 4) {
          scale[g] = s[g] & 63;
          min[g] = s[g + 4] & 63;
        } else {
          scale[g] = (s[g + 4] & 0xF) | ((s[g - 4] >> 6) << 4);
          min[g] = (s[g + 4] >> 4) | ((s[g] >> 6) << 4);
        }
      }
      d = load_half(b);
      dmin = load_half(b + 2);
    } else {
      static_assert(T == DType::Q6_K);
      for (int g = 0; g < 16; ++g) scale[g] = static_cast<int8_t>(b[quant::Q6_KLayout::kScales + g]);
      d = load_half(b + quant::Q6_KLayout::kD);
    }
  }

  int value(int e) const {
    if constexpr (T == DType::Q2_K) {
      const int n = e / 128, j = (e % 128) / 32, l = e % 32;
      return (blk[quant::Q2_KLayout::kQs + 32 * n + l] >> (2 * j)) & 3;
    } else if constexpr (T == DType::Q3_K) {
      const int n = e / 128, j = (e % 128) / 32, l = e % 32;
      const int low = (blk[quant::Q3_KLayout::kQs + 32 * n + l] >> (2 * j)) & 3;
      const int high = (blk[quant::Q3_KLayout::kHmask + l] >> (4 * n + j)) & 1;
      return (low | (high << 2)) - 4;
    } else if constexpr (T == DType::Q4_K) {
      const int c = e / 64, l = e % 32;
      const uint8_t byte = blk[quant::Q4_KLayout::kQs + 32 * c + l];
      return (e % 64) < 32 ? (byte & 0xF) : (byte >> 4);
    } else if constexpr (T == DType::Q5_K) {
      const int c = e / 64, l = e % 32, sub = e / 32;
      const uint8_t byte = blk[quant::Q5_KLayout::kQs + 32 * c + l];
      const int nibble = (e % 64) < 32 ? (byte & 0xF) : (byte >> 4);
      return nibble | (((blk[quant::Q5_KLayout::kQh + l] >> sub) & 1) << 4);
    } else {
      const int n = e / 128, k = (e % 128) / 32, l = e % 32;
      const uint8_t* ql = blk + quant::Q6_KLayout::kQl + 64 * n;
      const uint8_t* qh = blk + quant::Q6_KLayout::kQh + 32 * n;
      // k = 0..3: low nibbles of ql[l], of ql[l + 32], high nibbles of ql[l], of ql[l + 32].
      const uint8_t byte = ql[l + 32 * (k % 2)];
      const int low4 = k < 2 ? (byte & 0xF) : (byte >> 4);
      const int high = (qh[l] >> (2 * k)) & 3;
      return (low4 | (high << 4)) - 32;
    }
  }
};

template <DType T>
float kquant_one(const uint8_t* row, int64_t nsb, const ActView& a) {
  using K = KBlock<T>;
  const int64_t bytes = dtype_info(T).block_bytes;
  float p[16] = {};
  for (int64_t b = 0; b < nsb; ++b) {
    const K k(row + b * bytes);
    const int8_t* xq = a.q() + b * 256;
    int32_t isum = 0, imin = 0;
    for (int g = 0; g < 256 / K::kGroup; ++g) {
      int32_t dot = 0;
      for (int i = 0; i < K::kGroup; ++i) dot += k.value(g * K::kGroup + i) * xq[g * K::kGroup + i];
      isum += k.scale[g] * dot;
      if constexpr (K::kHasMin) {
        const int32_t xs = K::kGroup == 16 ? a.sum16()[b * 16 + g] : a.sum32()[b * 8 + g];
        imin += k.min[g] * xs;
      }
    }
    const float dx = a.d()[b];
    float& acc = p[b % 16];
    acc = std::fma(static_cast<float>(isum), k.d * dx, acc);
    if constexpr (K::kHasMin) acc = std::fma(static_cast<float>(imin), -(k.dmin * dx), acc);
  }
  return tree16(p);
}

template <DType T>
void matmul_act_twin(const Tensor& w, int64_t row_begin, int64_t row_end, const uint8_t* act, const ActLayout& layout,
                     int64_t n_tokens, float* y, int64_t ldy) {
  const int64_t cols = w.cols();
  for (int64_t r = row_begin; r < row_end; ++r) {
    const uint8_t* row = w.row_data(r);
    for (int64_t t = 0; t < n_tokens; ++t) {
      const ActView a{act + t * layout.bytes, &layout};
      float v;
      if constexpr (T == DType::BF16) {
        // The products w * hi, w * mid, w * lo are exact in f32; the fast
        // kernel pairs and orders their sum its own way (checked within the
        // f32 bound).
        v = 0.0f;
        for (int64_t c = 0; c < cols; ++c) {
          uint16_t h;
          std::memcpy(&h, row + 2 * c, 2);
          const float wv = bf16_to_f32(h);
          v += wv * bf16_to_f32(a.hi()[c]) + wv * bf16_to_f32(a.mid()[c]) + wv * bf16_to_f32(a.lo()[c]);
        }
      } else if constexpr (int8_act_format(T) == ActFormat::kQ8_32) {
        v = legacy_one<T>(row, cols / 32, a);
      } else {
        v = kquant_one<T>(row, cols / 256, a);
      }
      y[t * ldy + r] = v;
    }
  }
}

}  // namespace

void fill_act_twins(KernelTable& table) {
  table.quantize_act[static_cast<int>(ActFormat::kQ8_32)] = quantize_act_reference;
  table.quantize_act[static_cast<int>(ActFormat::kQ8_256)] = quantize_act_reference;
  table.quantize_act[static_cast<int>(ActFormat::kBF16Split)] = quantize_act_reference;
  auto set = [&](DType t, MatmulActFn fn, ActFormat f) {
    table.matmul_act[static_cast<int>(t)] = fn;
    table.act_format[static_cast<int>(t)] = f;
  };
  set(DType::Q8_0, matmul_act_twin<DType::Q8_0>, ActFormat::kQ8_32);
  set(DType::Q4_0, matmul_act_twin<DType::Q4_0>, ActFormat::kQ8_32);
  set(DType::Q4_1, matmul_act_twin<DType::Q4_1>, ActFormat::kQ8_32);
  set(DType::Q5_0, matmul_act_twin<DType::Q5_0>, ActFormat::kQ8_32);
  set(DType::Q5_1, matmul_act_twin<DType::Q5_1>, ActFormat::kQ8_32);
  set(DType::Q2_K, matmul_act_twin<DType::Q2_K>, ActFormat::kQ8_256);
  set(DType::Q3_K, matmul_act_twin<DType::Q3_K>, ActFormat::kQ8_256);
  set(DType::Q4_K, matmul_act_twin<DType::Q4_K>, ActFormat::kQ8_256);
  set(DType::Q5_K, matmul_act_twin<DType::Q5_K>, ActFormat::kQ8_256);
  set(DType::Q6_K, matmul_act_twin<DType::Q6_K>, ActFormat::kQ8_256);
  set(DType::BF16, matmul_act_twin<DType::BF16>, ActFormat::kBF16Split);
}

}  // namespace dseek::kernels
