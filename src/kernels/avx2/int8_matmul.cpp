// Int8 products on AVX2 (no VNNI): the AVX-512 kernels' method eight lanes
// wide, one row at a time. Weights are unpacked to unsigned bytes in their
// natural order (value + offset); vpmaddubsw + vpmaddwd multiply 32 of them
// with 32 activations into 8 lanes of 4-element sums. Unsigned bytes stay
// below 64 except Q8_0's (q + 128), whose pair sums could saturate 16 bits,
// so Q8_0 uses the sign trick instead (|q| times sign-adjusted activations,
// exact). Integer parts and the canonical float order are those of
// reference/int8_matmul.cpp: the results are bit-identical to it.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/avx2/simd_avx2.h"
#include "kernels/kernels.h"

namespace dseek::kernels::avx2 {
namespace {

DSEEK_TARGET_AVX2 inline float half_at(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

DSEEK_TARGET_AVX2 inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// 8 lanes, each the sum of 4 products u * x (u unsigned < 128 or pair sums
// that fit int16, x signed).
DSEEK_TARGET_AVX2 inline __m256i dot_u8_s8(__m256i u, __m256i x) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, x), _mm256_set1_epi16(1));
}

DSEEK_TARGET_AVX2 inline int32_t hsum_epi32(__m256i v) {
  __m128i a = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  a = _mm_add_epi32(a, _mm_unpackhi_epi64(a, a));
  return _mm_cvtsi128_si32(_mm_add_epi32(a, _mm_shuffle_epi32(a, 1)));
}

DSEEK_TARGET_AVX2 inline __m256i nibbles(const uint8_t* qs) {
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m256i y = _mm256_inserti128_si256(_mm256_castsi128_si256(q), _mm_srli_epi16(q, 4), 1);
  return _mm256_and_si256(y, _mm256_set1_epi8(0x0F));
}

// The fifth bits of Q5_0 / Q5_1 (bit i of qh for element i) as 16s.
DSEEK_TARGET_AVX2 inline __m256i fifth_bits(const uint8_t* qh_bytes) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, 4);
  // Byte i of the vector gets byte i/8 of qh, then its bit i%8 is tested.
  const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int32_t>(qh)),
                                             _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2,
                                                              2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
  const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ull));
  const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
  return _mm256_and_si256(set, _mm256_set1_epi8(16));
}

// One block's integer part: sum over i of value_i * x_i (offset removed).
template <DType T>
DSEEK_TARGET_AVX2 inline int32_t legacy_isum(const uint8_t* blk, const int8_t* xq, int32_t xsum) {
  const __m256i x = load256(xq);
  if constexpr (T == DType::Q8_0) {
    const __m256i w = load256(blk + 2);
    return hsum_epi32(dot_u8_s8(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w)));
  } else if constexpr (T == DType::Q4_0) {
    return hsum_epi32(dot_u8_s8(nibbles(blk + 2), x)) - 8 * xsum;
  } else if constexpr (T == DType::Q4_1) {
    return hsum_epi32(dot_u8_s8(nibbles(blk + 4), x));
  } else if constexpr (T == DType::Q5_0) {
    return hsum_epi32(dot_u8_s8(_mm256_or_si256(nibbles(blk + 6), fifth_bits(blk + 2)), x)) - 16 * xsum;
  } else {
    static_assert(T == DType::Q5_1);
    return hsum_epi32(dot_u8_s8(_mm256_or_si256(nibbles(blk + 8), fifth_bits(blk + 4)), x));
  }
}

template <DType T>
DSEEK_TARGET_AVX2 void matmul_legacy(const Tensor& w, int64_t row_begin, int64_t row_end, const uint8_t* act,
                                     const ActLayout& layout, int64_t n_tokens, float* y, int64_t ldy) {
  constexpr bool kMin = T == DType::Q4_1 || T == DType::Q5_1;
  const int64_t bytes = dtype_info(T).block_bytes;
  const int64_t nb = w.cols() / 32;
  const int64_t stride = w.row_stride_bytes();
  for (int64_t r = row_begin; r < row_end; ++r) {
    const uint8_t* row = w.data + r * stride;
    for (int64_t t = 0; t < n_tokens; ++t) {
      const ActView a{act + t * layout.bytes, &layout};
      float p[16] = {};
      for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* blk = row + b * bytes;
        const int32_t isum = legacy_isum<T>(blk, a.q() + 32 * b, a.sum32()[b]);
        float& acc = p[b % 16];
        acc = std::fma(static_cast<float>(isum), half_at(blk) * a.d()[b], acc);
        if constexpr (kMin) acc = std::fma(half_at(blk + 2), a.sx()[b], acc);
      }
      y[t * ldy + r] = tree16(p);
    }
  }
}

// ---- 256-element super-blocks: 8 vectors of 32 unsigned bytes each -------

struct KUnpacked {
  __m256i u[8];
  int32_t scale[16], min[16];
  float d, dmin;
};

DSEEK_TARGET_AVX2 inline void q4k_scales(const uint8_t* s, KUnpacked& k) {
  uint32_t a[3];
  std::memcpy(a, s, 12);
  const uint32_t m6 = 0x3f3f3f3f, m4 = 0x0f0f0f0f, m2 = 0x03030303;
  const uint32_t sc[2] = {a[0] & m6, (a[2] & m4) | (((a[0] >> 6) & m2) << 4)};
  const uint32_t mn[2] = {a[1] & m6, ((a[2] >> 4) & m4) | (((a[1] >> 6) & m2) << 4)};
  uint8_t b[8];
  std::memcpy(b, sc, 8);
  for (int g = 0; g < 8; ++g) k.scale[g] = b[g];
  std::memcpy(b, mn, 8);
  for (int g = 0; g < 8; ++g) k.min[g] = b[g];
}

template <DType T>
DSEEK_TARGET_AVX2 void kunpack(const uint8_t* b, KUnpacked& k) {
  const __m256i m4 = _mm256_set1_epi8(0x0F), m3 = _mm256_set1_epi8(3);
  if constexpr (T == DType::Q4_K || T == DType::Q5_K) {
    const uint8_t* qs = b + (T == DType::Q4_K ? 16 : 48);
    for (int c = 0; c < 4; ++c) {
      const __m256i q = load256(qs + 32 * c);
      k.u[2 * c] = _mm256_and_si256(q, m4);
      k.u[2 * c + 1] = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
    }
    if constexpr (T == DType::Q5_K) {
      const __m256i qh = load256(b + 16);
      for (int j = 0; j < 8; ++j) {  // sub-block j takes bit j of qh[l]
        const __m256i bit = _mm256_set1_epi8(static_cast<char>(1 << j));
        const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(qh, bit), bit);
        k.u[j] = _mm256_or_si256(k.u[j], _mm256_and_si256(set, _mm256_set1_epi8(16)));
      }
    }
    q4k_scales(b + 4, k);
    k.d = half_at(b);
    k.dmin = half_at(b + 2);
  } else if constexpr (T == DType::Q6_K) {
    for (int n = 0; n < 2; ++n) {
      const __m256i ql0 = load256(b + 64 * n), ql1 = load256(b + 64 * n + 32), qh = load256(b + 128 + 32 * n);
      const __m256i m30 = _mm256_set1_epi8(0x30);
      k.u[4 * n + 0] = _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), m30));
      k.u[4 * n + 1] = _mm256_or_si256(_mm256_and_si256(ql1, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), m30));
      k.u[4 * n + 2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4), _mm256_and_si256(qh, m30));
      k.u[4 * n + 3] =
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4), _mm256_and_si256(_mm256_srli_epi16(qh, 2), m30));
    }
    for (int g = 0; g < 16; ++g) k.scale[g] = static_cast<int8_t>(b[192 + g]);
    k.d = half_at(b + 208);
    k.dmin = 0;
  } else {
    static_assert(T == DType::Q2_K || T == DType::Q3_K);
    const uint8_t* qs = b + (T == DType::Q2_K ? 16 : 32);
    for (int n = 0; n < 2; ++n) {
      const __m256i q = load256(qs + 32 * n);
      for (int j = 0; j < 4; ++j) k.u[4 * n + j] = _mm256_and_si256(_mm256_srli_epi16(q, 2 * j), m3);
    }
    if constexpr (T == DType::Q2_K) {
      for (int g = 0; g < 16; ++g) {
        k.scale[g] = b[g] & 0xF;
        k.min[g] = b[g] >> 4;
      }
      k.d = half_at(b + 80);
      k.dmin = half_at(b + 82);
    } else {
      const __m256i hm = load256(b);
      for (int i = 0; i < 8; ++i) {  // element 128n + 32j + l: bit 4n + j of hmask[l]
        const __m256i bit = _mm256_set1_epi8(static_cast<char>(1 << i));
        const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(hm, bit), bit);
        k.u[i] = _mm256_or_si256(k.u[i], _mm256_and_si256(set, _mm256_set1_epi8(4)));
      }
      uint32_t a[3];
      std::memcpy(a, b + 96, 12);
      const uint32_t m4w = 0x0f0f0f0f, m2w = 0x03030303;
      const uint32_t s[4] = {(a[0] & m4w) | ((a[2] & m2w) << 4), (a[1] & m4w) | (((a[2] >> 2) & m2w) << 4),
                             ((a[0] >> 4) & m4w) | (((a[2] >> 4) & m2w) << 4),
                             ((a[1] >> 4) & m4w) | (((a[2] >> 6) & m2w) << 4)};
      uint8_t sb[16];
      std::memcpy(sb, s, 16);
      for (int g = 0; g < 16; ++g) k.scale[g] = sb[g] - 32;
      k.d = half_at(b + 108);
      k.dmin = 0;
    }
  }
}

template <DType T>
DSEEK_TARGET_AVX2 void matmul_kquant(const Tensor& w, int64_t row_begin, int64_t row_end, const uint8_t* act,
                                     const ActLayout& layout, int64_t n_tokens, float* y, int64_t ldy) {
  constexpr int kGroup = (T == DType::Q4_K || T == DType::Q5_K) ? 32 : 16;
  constexpr bool kMin = T == DType::Q2_K || T == DType::Q4_K || T == DType::Q5_K;
  constexpr int kOffset = T == DType::Q6_K ? 32 : T == DType::Q3_K ? 4 : 0;
  const int64_t bytes = dtype_info(T).block_bytes;
  const int64_t nsb = w.cols() / 256;
  const int64_t stride = w.row_stride_bytes();
  for (int64_t r = row_begin; r < row_end; ++r) {
    const uint8_t* row = w.data + r * stride;
    for (int64_t t = 0; t < n_tokens; ++t) {
      const ActView a{act + t * layout.bytes, &layout};
      float p[16] = {};
      for (int64_t sb = 0; sb < nsb; ++sb) {
        KUnpacked k;
        kunpack<T>(row + sb * bytes, k);
        const int8_t* xq = a.q() + 256 * sb;
        int32_t isum = 0, imin = 0;
        for (int i = 0; i < 8; ++i) {
          const __m256i lanes = dot_u8_s8(k.u[i], load256(xq + 32 * i));
          if constexpr (kGroup == 32) {
            isum += k.scale[i] * hsum_epi32(lanes);
          } else {
            // Lanes 0-3: group 2i, lanes 4-7: group 2i + 1.
            const __m256i sc = _mm256_setr_epi32(k.scale[2 * i], k.scale[2 * i], k.scale[2 * i], k.scale[2 * i],
                                                 k.scale[2 * i + 1], k.scale[2 * i + 1], k.scale[2 * i + 1],
                                                 k.scale[2 * i + 1]);
            isum += hsum_epi32(_mm256_mullo_epi32(lanes, sc));
          }
        }
        for (int g = 0; g < 256 / kGroup; ++g) {
          const int32_t xs = kGroup == 16 ? a.sum16()[16 * sb + g] : a.sum32()[8 * sb + g];
          if constexpr (kOffset != 0) isum -= kOffset * k.scale[g] * xs;
          if constexpr (kMin) imin += k.min[g] * xs;
        }
        const float dx = a.d()[sb];
        float& acc = p[sb % 16];
        acc = std::fma(static_cast<float>(isum), k.d * dx, acc);
        if constexpr (kMin) acc = std::fma(static_cast<float>(imin), -(k.dmin * dx), acc);
      }
      y[t * ldy + r] = tree16(p);
    }
  }
}

}  // namespace

void fill_int8_matmul(KernelTable& table) {
  auto set = [&](DType t, MatmulActFn fn) {
    table.matmul_act[static_cast<int>(t)] = fn;
    table.act_format[static_cast<int>(t)] = int8_act_format(t);
  };
  set(DType::Q8_0, matmul_legacy<DType::Q8_0>);
  set(DType::Q4_0, matmul_legacy<DType::Q4_0>);
  set(DType::Q4_1, matmul_legacy<DType::Q4_1>);
  set(DType::Q5_0, matmul_legacy<DType::Q5_0>);
  set(DType::Q5_1, matmul_legacy<DType::Q5_1>);
  set(DType::Q2_K, matmul_kquant<DType::Q2_K>);
  set(DType::Q3_K, matmul_kquant<DType::Q3_K>);
  set(DType::Q4_K, matmul_kquant<DType::Q4_K>);
  set(DType::Q5_K, matmul_kquant<DType::Q5_K>);
  set(DType::Q6_K, matmul_kquant<DType::Q6_K>);
}

}  // namespace dseek::kernels::avx2
