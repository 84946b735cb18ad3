// The 256-element "k-quant" super-block types Q2_K, Q3_K, Q4_K, Q5_K, Q6_K.
// A super-block holds 8 or 16 sub-blocks, each with its own small integer
// scale (and min) that is itself quantized against one f16 super-scale.
// Quantizers follow llama.cpp's quantize_row_q*_K_ref (no importance matrix)
// operation for operation; dequantizers follow dequantize_row_q*_K.
#include <algorithm>
#include <cmath>

#include "quant/blocks.h"
#include "quant/formats.h"
#include "quant/quant.h"
#include "quant/k_quant_search.h"

namespace dseek::quant {

namespace {

inline int clamp_level(int l, int lo, int hi) { return std::max(lo, std::min(hi, l)); }

// Q2_K/Q3_K store 2-bit codes: byte l of a 32-byte group holds elements
// l, l+32, l+64, l+96 of a 128-element half, two bits each.
void pack_2bit(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < kQKK; j += 128)
    for (int l = 0; l < 32; ++l)
      qs[j / 4 + l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
}

// The 6-bit scale of sub-block j of Q3_K: low 4 bits in the nibbles of bytes
// 0-7, high 2 bits in bytes 8-11. Stored with an offset of 32.
int q3_k_scale(const uint8_t* sc, int j) {
  const int low = j < 8 ? sc[j] & 0xF : sc[j - 8] >> 4;
  const int high = (sc[8 + j % 4] >> (2 * (j / 4))) & 3;
  return (low | (high << 4)) - 32;
}

// Packs eight 6-bit scales and mins the way unpack_scale_min_k4 reads them.
void pack_scale_min_k4(int j, uint8_t ls, uint8_t lm, uint8_t* sc) {
  if (j < 4) {
    sc[j] = ls;
    sc[j + 4] = lm;
  } else {
    sc[j + 4] = static_cast<uint8_t>((ls & 0xF) | ((lm & 0xF) << 4));
    sc[j - 4] = static_cast<uint8_t>(sc[j - 4] | ((ls >> 4) << 6));
    sc[j] = static_cast<uint8_t>(sc[j] | ((lm >> 4) << 6));
  }
}

// Shared by Q4_K and Q5_K: eight 32-element sub-blocks with a scale and a
// min each; the codes (0..nmax) go to L.
void quantize_scales_mins_k4(const float* x, int nmax, float rmin, float rdelta, int nstep, uint8_t* block,
                             int d_offset, int dmin_offset, int scales_offset, uint8_t* L) {
  float weights[32];
  uint8_t scratch[32];
  float mins[8], scales[8];
  float max_scale = 0.0f, max_min = 0.0f;
  for (int j = 0; j < 8; ++j) {
    float sum_x2 = 0.0f;
    for (int l = 0; l < 32; ++l) sum_x2 += x[32 * j + l] * x[32 * j + l];
    const float av_x = std::sqrt(sum_x2 / 32.0f);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(x[32 * j + l]);
    scales[j] = fit_scale_and_min(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], scratch, rmin, rdelta, nstep,
                                  false);
    max_scale = std::max(max_scale, scales[j]);
    max_min = std::max(max_min, mins[j]);
  }
  const float inv_scale = max_scale > 0.0f ? 63.0f / max_scale : 0.0f;
  const float inv_min = max_min > 0.0f ? 63.0f / max_min : 0.0f;
  uint8_t* sc = block + scales_offset;
  for (int j = 0; j < 8; ++j) {
    const uint8_t ls = std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_scale * scales[j])));
    const uint8_t lm = std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_min * mins[j])));
    pack_scale_min_k4(j, ls, lm, sc);
  }
  store_half(block + d_offset, max_scale / 63.0f);
  store_half(block + dmin_offset, max_min / 63.0f);
  // Requantize every element against the scales as stored.
  const float d_all = load_half(block + d_offset);
  const float dmin_all = load_half(block + dmin_offset);
  for (int j = 0; j < 8; ++j) {
    uint8_t s, m;
    unpack_scale_min_k4(j, sc, s, m);
    const float d = d_all * static_cast<float>(s);
    if (d == 0.0f) continue;
    const float dm = dmin_all * static_cast<float>(m);
    for (int i = 0; i < 32; ++i)
      L[32 * j + i] = static_cast<uint8_t>(clamp_level(nearest_int((x[32 * j + i] + dm) / d), 0, nmax));
  }
}

}  // namespace

// ---- Q2_K: x = d * scale_j * q - dmin * min_j, q in 0..3, 16 sub-blocks of 16.

void quantize_q2_k(const float* x, uint8_t* dst, int64_t n_blocks) {
  using B = Q2_KLayout;
  for (int64_t b = 0; b < n_blocks; ++b, x += kQKK, dst += B::kBytes) {
    uint8_t L[kQKK];
    uint8_t scratch[16];
    float weights[16], mins[16], scales[16];
    float max_scale = 0.0f, max_min = 0.0f;
    for (int j = 0; j < 16; ++j) {
      for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * j + l]);
      scales[j] = fit_scale_and_min(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], scratch, -0.5f, 0.1f, 15, true);
      max_scale = std::max(max_scale, scales[j]);
      max_min = std::max(max_min, mins[j]);
    }
    uint8_t* sc = dst + B::kScales;
    if (max_scale > 0.0f) {
      const float iscale = 15.0f / max_scale;
      for (int j = 0; j < 16; ++j) sc[j] = static_cast<uint8_t>(nearest_int(iscale * scales[j]));
      store_half(dst + B::kD, max_scale / 15.0f);
    } else {
      for (int j = 0; j < 16; ++j) sc[j] = 0;
      store_half(dst + B::kD, 0.0f);
    }
    if (max_min > 0.0f) {
      const float iscale = 15.0f / max_min;
      for (int j = 0; j < 16; ++j) sc[j] = static_cast<uint8_t>(sc[j] | (nearest_int(iscale * mins[j]) << 4));
      store_half(dst + B::kDmin, max_min / 15.0f);
    } else {
      store_half(dst + B::kDmin, 0.0f);
    }
    const float d_all = load_half(dst + B::kD);
    const float dmin_all = load_half(dst + B::kDmin);
    for (int j = 0; j < 16; ++j) {
      const float d = d_all * static_cast<float>(sc[j] & 0xF);
      if (d == 0.0f) continue;
      const float dm = dmin_all * static_cast<float>(sc[j] >> 4);
      for (int i = 0; i < 16; ++i)
        L[16 * j + i] = static_cast<uint8_t>(clamp_level(nearest_int((x[16 * j + i] + dm) / d), 0, 3));
    }
    pack_2bit(L, dst + B::kQs);
  }
}

void dequantize_q2_k(const uint8_t* src, float* y, int64_t n_blocks) {
  using B = Q2_KLayout;
  for (int64_t b = 0; b < n_blocks; ++b, src += B::kBytes) {
    const float d = load_half(src + B::kD);
    const float min = load_half(src + B::kDmin);
    const uint8_t* sc = src + B::kScales;
    const uint8_t* q = src + B::kQs;
    int is = 0;
    for (int half = 0; half < 2; ++half, q += 32) {
      for (int shift = 0; shift < 8; shift += 2) {
        for (int part = 0; part < 2; ++part) {
          const uint8_t s = sc[is++];
          const float dl = d * static_cast<float>(s & 0xF);
          const float ml = min * static_cast<float>(s >> 4);
          for (int l = 0; l < 16; ++l) *y++ = dl * static_cast<float>((q[l + 16 * part] >> shift) & 3) - ml;
        }
      }
    }
  }
}

// ---- Q3_K: x = d * (scale_j - 32) * (q - 4), q in 0..7 (2 low bits + a high bit), 16 sub-blocks of 16.

void quantize_q3_k(const float* x, uint8_t* dst, int64_t n_blocks) {
  using B = Q3_KLayout;
  for (int64_t b = 0; b < n_blocks; ++b, x += kQKK, dst += B::kBytes) {
    int8_t L[kQKK];
    float scales[16];
    float max_scale = 0.0f, amax = 0.0f;
    for (int j = 0; j < 16; ++j) {
      scales[j] = fit_symmetric_scale_refined(16, 4, x + 16 * j, L + 16 * j);
      const float scale = std::fabs(scales[j]);
      if (scale > amax) {
        amax = scale;
        max_scale = scales[j];
      }
    }
    uint8_t* sc = dst + B::kScales;
    std::memset(sc, 0, 12);
    if (max_scale != 0.0f) {
      const float iscale = -32.0f / max_scale;
      for (int j = 0; j < 16; ++j) {
        int l = static_cast<int8_t>(nearest_int(iscale * scales[j]));
        l = clamp_level(l, -32, 31) + 32;
        if (j < 8) sc[j] = static_cast<uint8_t>(l & 0xF);
        else sc[j - 8] = static_cast<uint8_t>(sc[j - 8] | ((l & 0xF) << 4));
        l >>= 4;
        sc[j % 4 + 8] = static_cast<uint8_t>(sc[j % 4 + 8] | (l << (2 * (j / 4))));
      }
      store_half(dst + B::kD, 1.0f / iscale);
    } else {
      store_half(dst + B::kD, 0.0f);
    }
    const float d_all = load_half(dst + B::kD);
    for (int j = 0; j < 16; ++j) {
      const float d = d_all * static_cast<float>(static_cast<int8_t>(q3_k_scale(sc, j)));
      if (d == 0.0f) continue;
      for (int i = 0; i < 16; ++i)
        L[16 * j + i] = static_cast<int8_t>(clamp_level(nearest_int(x[16 * j + i] / d), -4, 3) + 4);
    }
    // High bits: element e goes to bit e / 32 of hmask[e % 32].
    uint8_t* hmask = dst + B::kHmask;
    std::memset(hmask, 0, 32);
    for (int e = 0; e < kQKK; ++e) {
      if (L[e] > 3) {
        hmask[e % 32] = static_cast<uint8_t>(hmask[e % 32] | (1 << (e / 32)));
        L[e] = static_cast<int8_t>(L[e] - 4);
      }
    }
    pack_2bit(reinterpret_cast<const uint8_t*>(L), dst + B::kQs);
  }
}

void dequantize_q3_k(const uint8_t* src, float* y, int64_t n_blocks) {
  using B = Q3_KLayout;
  for (int64_t b = 0; b < n_blocks; ++b, src += B::kBytes) {
    const float d_all = load_half(src + B::kD);
    const uint8_t* q = src + B::kQs;
    const uint8_t* hm = src + B::kHmask;
    const uint8_t* sc = src + B::kScales;
    int is = 0;
    uint8_t m = 1;
    for (int half = 0; half < 2; ++half, q += 32) {
      for (int shift = 0; shift < 8; shift += 2, m = static_cast<uint8_t>(m << 1)) {
        for (int part = 0; part < 2; ++part) {
          const float dl = d_all * static_cast<float>(q3_k_scale(sc, is++));
          for (int l = 0; l < 16; ++l) {
            const int k = l + 16 * part;
            const int code = ((q[k] >> shift) & 3) - ((hm[k] & m) ? 0 : 4);
            *y++ = dl * static_cast<float>(code);
          }
        }
      }
    }
  }
}

// ---- Q4_K: x = d * scale_j * q - dmin * min_j, q in 0..15, 8 sub-blocks of 32.

void quantize_q4_k(const float* x, uint8_t* dst, int64_t n_blocks) {
  using B = Q4_KLayout;
  for (int64_t b = 0; b < n_blocks; ++b, x += kQKK, dst += B::kBytes) {
    uint8_t L[kQKK];
    quantize_scales_mins_k4(x, 15, -1.0f, 0.1f, 20, dst, B::kD, B::kDmin, B::kScales, L);
    uint8_t* q = dst + B::kQs;
    for (int j = 0; j < kQKK; j += 64, q += 32)
      for (int l = 0; l < 32; ++l) q[l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 4));
  }
}

void dequantize_q4_k(const uint8_t* src, float* y, int64_t n_blocks) {
  using B = Q4_KLayout;
  for (int64_t b = 0; b < n_blocks; ++b, src += B::kBytes) {
    const float d = load_half(src + B::kD);
    const float min = load_half(src + B::kDmin);
    const uint8_t* q = src + B::kQs;
    for (int is = 0; is < 8; is += 2, q += 32) {
      uint8_t s, m;
      unpack_scale_min_k4(is, src + B::kScales, s, m);
      const float d1 = d * static_cast<float>(s), m1 = min * static_cast<float>(m);
      unpack_scale_min_k4(is + 1, src + B::kScales, s, m);
      const float d2 = d * static_cast<float>(s), m2 = min * static_cast<float>(m);
      for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
    }
  }
}

// ---- Q5_K: as Q4_K with q in 0..31; the fifth bits live in qh.

void quantize_q5_k(const float* x, uint8_t* dst, int64_t n_blocks) {
  using B = Q5_KLayout;
  for (int64_t b = 0; b < n_blocks; ++b, x += kQKK, dst += B::kBytes) {
    uint8_t L[kQKK];
    quantize_scales_mins_k4(x, 31, -0.5f, 0.1f, 15, dst, B::kD, B::kDmin, B::kScales, L);
    uint8_t* qh = dst + B::kQh;
    uint8_t* ql = dst + B::kQs;
    std::memset(qh, 0, 32);
    uint8_t m1 = 1, m2 = 2;
    for (int n = 0; n < kQKK; n += 64, ql += 32) {
      for (int j = 0; j < 32; ++j) {
        int l1 = L[n + j];
        if (l1 > 15) {
          l1 -= 16;
          qh[j] = static_cast<uint8_t>(qh[j] | m1);
        }
        int l2 = L[n + j + 32];
        if (l2 > 15) {
          l2 -= 16;
          qh[j] = static_cast<uint8_t>(qh[j] | m2);
        }
        ql[j] = static_cast<uint8_t>(l1 | (l2 << 4));
      }
      m1 = static_cast<uint8_t>(m1 << 2);
      m2 = static_cast<uint8_t>(m2 << 2);
    }
  }
}

void dequantize_q5_k(const uint8_t* src, float* y, int64_t n_blocks) {
  using B = Q5_KLayout;
  for (int64_t b = 0; b < n_blocks; ++b, src += B::kBytes) {
    const float d = load_half(src + B::kD);
    const float min = load_half(src + B::kDmin);
    const uint8_t* ql = src + B::kQs;
    const uint8_t* qh = src + B::kQh;
    uint8_t u1 = 1, u2 = 2;
    for (int is = 0; is < 8; is += 2, ql += 32) {
      uint8_t s, m;
      unpack_scale_min_k4(is, src + B::kScales, s, m);
      const float d1 = d * static_cast<float>(s), m1 = min * static_cast<float>(m);
      unpack_scale_min_k4(is + 1, src + B::kScales, s, m);
      const float d2 = d * static_cast<float>(s), m2 = min * static_cast<float>(m);
      for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>((ql[l] & 0xF) + ((qh[l] & u1) ? 16 : 0)) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
      u1 = static_cast<uint8_t>(u1 << 2);
      u2 = static_cast<uint8_t>(u2 << 2);
    }
  }
}

// ---- Q6_K: x = d * scale_j * (q - 32), q in 0..63 (4 low bits in ql, 2 high in qh), int8 scales, 16 sub-blocks of 16.

void quantize_q6_k(const float* x, uint8_t* dst, int64_t n_blocks) {
  using B = Q6_KLayout;
  for (int64_t b = 0; b < n_blocks; ++b, x += kQKK, dst += B::kBytes) {
    int8_t L[kQKK];
    float scales[16];
    float max_scale = 0.0f, max_abs_scale = 0.0f;
    for (int ib = 0; ib < 16; ++ib) {
      scales[ib] = fit_symmetric_scale(16, 32, x + 16 * ib, L + 16 * ib);
      const float abs_scale = std::fabs(scales[ib]);
      if (abs_scale > max_abs_scale) {
        max_abs_scale = abs_scale;
        max_scale = scales[ib];
      }
    }
    if (max_abs_scale < kGroupMaxEps) {
      std::memset(dst, 0, B::kBytes);
      continue;
    }
    const float iscale = -128.0f / max_scale;
    store_half(dst + B::kD, 1.0f / iscale);
    int8_t* sc = reinterpret_cast<int8_t*>(dst + B::kScales);
    for (int ib = 0; ib < 16; ++ib) sc[ib] = static_cast<int8_t>(std::min(127, nearest_int(iscale * scales[ib])));
    const float d_all = load_half(dst + B::kD);
    for (int j = 0; j < 16; ++j) {
      const float d = d_all * static_cast<float>(sc[j]);
      if (d == 0.0f) continue;
      for (int i = 0; i < 16; ++i)
        L[16 * j + i] = static_cast<int8_t>(clamp_level(nearest_int(x[16 * j + i] / d), -32, 31) + 32);
    }
    uint8_t* ql = dst + B::kQl;
    uint8_t* qh = dst + B::kQh;
    for (int j = 0; j < kQKK; j += 128, ql += 64, qh += 32) {
      for (int l = 0; l < 32; ++l) {
        const int a = L[j + l], b2 = L[j + l + 32], c = L[j + l + 64], e = L[j + l + 96];
        ql[l] = static_cast<uint8_t>((a & 0xF) | ((c & 0xF) << 4));
        ql[l + 32] = static_cast<uint8_t>((b2 & 0xF) | ((e & 0xF) << 4));
        qh[l] = static_cast<uint8_t>((a >> 4) | ((b2 >> 4) << 2) | ((c >> 4) << 4) | ((e >> 4) << 6));
      }
    }
  }
}

void dequantize_q6_k(const uint8_t* src, float* y, int64_t n_blocks) {
  using B = Q6_KLayout;
  for (int64_t b = 0; b < n_blocks; ++b, src += B::kBytes) {
    const float d = load_half(src + B::kD);
    const uint8_t* ql = src + B::kQl;
    const uint8_t* qh = src + B::kQh;
    const int8_t* sc = reinterpret_cast<const int8_t*>(src + B::kScales);
    for (int n = 0; n < kQKK; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l] = d * static_cast<float>(sc[is]) * static_cast<float>(q1);
        y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
        y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
        y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
      }
    }
  }
}

}  // namespace dseek::quant
