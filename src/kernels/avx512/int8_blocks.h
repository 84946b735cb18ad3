// The pieces the AVX-512 int8 kernels share (int8_matmul.cpp: tiles, packed
// copies, k-quants; q4_0_rows_vbmi.cpp: Q4_0 rows by byte permutes): how a
// block of each 32-element type is unpacked to unsigned bytes, the per-thread
// scratch, and the row path for one to a few tokens, which reads the
// weights in place from the mapped file, one row at a time, for up to four
// tokens per pass. Every function carries its target attribute
// (simd_avx512.h), so including this keeps a file baseline x86-64.
#pragma once

#include <algorithm>
#include <cstring>
#include <new>

#include "kernels/avx512/simd_avx512.h"
#include "kernels/kernels.h"

namespace dseek::kernels::avx512 {

inline constexpr int kTokenTile = 4;
// Rows the matrix-vector path fetches ahead of the row it computes.
inline constexpr int64_t kRowsAhead = 4;

DSEEK_TARGET_AVX512 inline float half_at(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// ---- 32-element blocks -----------------------------------------------------

// Q4 nibbles of one block (16 bytes at p) as [low nibbles | high nibbles]:
// elements 0-15 then 16-31, the block's natural order.
DSEEK_TARGET_AVX512 inline __m512i nibbles2(const uint8_t* p0, const uint8_t* p1) {
  const __m256i y = _mm256_inserti128_si256(
      _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p0))),
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(p1)), 1);
  const __m512i a = _mm512_castsi256_si512(y);
  const __m512i b = _mm512_castsi256_si512(_mm256_srli_epi16(y, 4));
  const __m512i z = _mm512_permutex2var_epi64(a, _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11), b);
  return _mm512_and_si512(z, _mm512_set1_epi8(0x0F));
}

DSEEK_TARGET_AVX512 inline __m512i nibbles1(const uint8_t* p0) {
  const __m256i y = _mm256_zextsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p0)));
  const __m512i a = _mm512_zextsi256_si512(y);
  const __m512i b = _mm512_zextsi256_si512(_mm256_srli_epi16(y, 4));
  const __m512i z = _mm512_permutex2var_epi64(a, _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11), b);
  return _mm512_and_si512(z, _mm512_set1_epi8(0x0F));
}

DSEEK_TARGET_AVX512 inline uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Per type: bytes per block, the unsigned offset, whether a min term
// follows, and the unpacking of one or two consecutive blocks.
template <DType T>
struct Legacy;

// Each Legacy<T>::pair(a, b) unpacks block a into bytes 0-31 and block b
// into bytes 32-63 (two consecutive blocks of a row for the matrix-vector
// path; the same block of two rows for the matrix-matrix path); one(a)
// leaves bytes 32-63 zero.
template <>
struct Legacy<DType::Q8_0> {
  static constexpr int kBytes = 34, kOffsetShift = 7;  // offset 128: q ^ 0x80 is q + 128
  static constexpr bool kMin = false, kNibbles = false;
  DSEEK_TARGET_AVX512 static __m512i pair(const uint8_t* a, const uint8_t* b) {
    const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + 2));
    const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 2));
    return _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1), _mm512_set1_epi8(char(0x80)));
  }
  DSEEK_TARGET_AVX512 static __m512i one(const uint8_t* a) {
    const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + 2));
    return _mm512_zextsi256_si512(_mm256_xor_si256(lo, _mm256_set1_epi8(char(0x80))));
  }
};

template <>
struct Legacy<DType::Q4_0> {
  static constexpr int kBytes = 18, kOffsetShift = 3;  // offset 8
  static constexpr bool kMin = false, kNibbles = true;
  DSEEK_TARGET_AVX512 static __m512i pair(const uint8_t* a, const uint8_t* b) { return nibbles2(a + 2, b + 2); }
  DSEEK_TARGET_AVX512 static __m512i one(const uint8_t* a) { return nibbles1(a + 2); }
};

template <>
struct Legacy<DType::Q4_1> {
  static constexpr int kBytes = 20, kOffsetShift = -1;  // no offset; d * q + m
  static constexpr bool kMin = true, kNibbles = true;
  DSEEK_TARGET_AVX512 static __m512i pair(const uint8_t* a, const uint8_t* b) { return nibbles2(a + 4, b + 4); }
  DSEEK_TARGET_AVX512 static __m512i one(const uint8_t* a) { return nibbles1(a + 4); }
};

// Q5: the fifth bit of element i is bit i of the block's 32-bit qh.
template <int kQh, int kQs>
struct Q5Blocks {
  DSEEK_TARGET_AVX512 static __m512i pair(const uint8_t* a, const uint8_t* b) {
    const __m512i u = nibbles2(a + kQs, b + kQs);
    const __mmask64 high =
        static_cast<__mmask64>(load_u32(a + kQh)) | (static_cast<__mmask64>(load_u32(b + kQh)) << 32);
    return _mm512_mask_add_epi8(u, high, u, _mm512_set1_epi8(16));
  }
  DSEEK_TARGET_AVX512 static __m512i one(const uint8_t* a) {
    const __m512i u = nibbles1(a + kQs);
    return _mm512_mask_add_epi8(u, static_cast<__mmask64>(load_u32(a + kQh)), u, _mm512_set1_epi8(16));
  }
};

template <>
struct Legacy<DType::Q5_0> : Q5Blocks<2, 6> {
  static constexpr int kBytes = 22, kOffsetShift = 4;  // offset 16
  static constexpr bool kMin = false, kNibbles = false;
};

template <>
struct Legacy<DType::Q5_1> : Q5Blocks<4, 8> {
  static constexpr int kBytes = 24, kOffsetShift = -1;
  static constexpr bool kMin = true, kNibbles = false;
};

// Per-thread scratch, 64-byte aligned, grown as needed; one buffer per slot
// (0: a tile, 1: the VBMI rows' rearranged activations, 2: the tiles' token panels).
template <int kSlot>
DSEEK_TARGET_AVX512 inline uint8_t* scratch(size_t bytes) {
  struct Buffer {
    uint8_t* p = nullptr;
    size_t size = 0;
    ~Buffer() { ::operator delete(p, std::align_val_t{64}); }
  };
  thread_local Buffer buf;
  if (bytes > buf.size) {
    ::operator delete(buf.p, std::align_val_t{64});
    buf.p = static_cast<uint8_t*>(::operator new(bytes, std::align_val_t{64}));
    buf.size = bytes;
  }
  return buf.p;
}

// One chunk of up to 16 blocks of a row (at `chunk`, blocks c0..c0+nblk-1)
// times tokens t0..t0+nt-1: adds block b's term to lane b - c0 of p[k].
template <DType T>
DSEEK_TARGET_AVX512 inline void legacy_chunk(const uint8_t* chunk, int nblk, int64_t c0, const uint8_t* act,
                                             const ActLayout& layout, int64_t t0, int nt, __m512* p) {
  using L = Legacy<T>;
  const __m512i block_offsets =
      _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32(L::kBytes));
  const __mmask16 live = static_cast<__mmask16>((1u << nblk) - 1u);
  __m512i u[8];
  const int npairs = (nblk + 1) / 2;
  for (int q = 0; q < 8; ++q) {
    if (2 * q + 1 < nblk) u[q] = L::pair(chunk + 2 * q * L::kBytes, chunk + (2 * q + 1) * L::kBytes);
    else if (2 * q < nblk) u[q] = L::one(chunk + 2 * q * L::kBytes);
    else u[q] = _mm512_setzero_si512();
  }
  // d (and m in the next two bytes) of the chunk's blocks.
  const __m512i dm = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), live, block_offsets, chunk, 1);
  const __m512 dw = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(dm));
  __m512 mw = _mm512_setzero_ps();
  if constexpr (L::kMin) mw = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(dm, 16)));
  for (int k = 0; k < nt; ++k) {
    const ActView a{act + (t0 + k) * layout.bytes, &layout};
    const int8_t* xq = a.q() + c0 * 32;
    __m512i s[8];
    for (int q = 0; q < 8; ++q)
      s[q] = q < npairs ? _mm512_dpbusd_epi32(_mm512_setzero_si512(), u[q], _mm512_loadu_si512(xq + 64 * q))
                        : _mm512_setzero_si512();
    __m512i isum = reduce_block_pairs(s);
    if constexpr (L::kOffsetShift >= 0)
      isum = _mm512_sub_epi32(isum, _mm512_slli_epi32(_mm512_loadu_si512(a.sum32() + c0), L::kOffsetShift));
    const __m512 scale = _mm512_mul_ps(dw, _mm512_loadu_ps(a.d() + c0));
    p[k] = _mm512_mask3_fmadd_ps(_mm512_cvtepi32_ps(isum), scale, p[k], live);
    if constexpr (L::kMin) p[k] = _mm512_mask3_fmadd_ps(mw, _mm512_loadu_ps(a.sx() + c0), p[k], live);
  }
}

DSEEK_TARGET_AVX512 inline void prefetch_bytes(const uint8_t* p, int64_t bytes) {
  for (int64_t line = 0; line < bytes; line += 64) _mm_prefetch(reinterpret_cast<const char*>(p + line), _MM_HINT_T0);
}

// Matrix-vector (and few tokens): one row at a time, weights in place.
template <DType T>
DSEEK_TARGET_AVX512 void matmul_legacy_rows(const Tensor& w, int64_t row_begin, int64_t row_end, const uint8_t* act,
                                            const ActLayout& layout, int64_t n_tokens, float* y, int64_t ldy) {
  using L = Legacy<T>;
  const int64_t nb = w.cols() / 32;
  const int64_t stride = w.row_stride_bytes();
  for (int64_t r = row_begin; r < row_end; ++r) {
    const uint8_t* row = w.data + r * stride;
    // Fetch ahead: the row kRowsAhead on (this call's or the next caller's).
    if (r + kRowsAhead < w.rows()) prefetch_bytes(row + kRowsAhead * stride, stride);
    for (int64_t t0 = 0; t0 < n_tokens; t0 += kTokenTile) {
      const int nt = static_cast<int>(std::min<int64_t>(kTokenTile, n_tokens - t0));
      __m512 p[kTokenTile];
      for (int k = 0; k < kTokenTile; ++k) p[k] = _mm512_setzero_ps();
      for (int64_t c0 = 0; c0 < nb; c0 += 16)
        legacy_chunk<T>(row + c0 * L::kBytes, static_cast<int>(std::min<int64_t>(16, nb - c0)), c0, act, layout, t0, nt, p);
      for (int k = 0; k < nt; ++k) y[(t0 + k) * ldy + r] = tree16(p[k]);
    }
  }
}

// Q4_0 rows by byte permutes, for CPUs with AVX512_VBMI (q4_0_rows_vbmi.cpp);
// a drop-in for matmul_legacy_rows<DType::Q4_0>.
void q4_0_rows_vbmi(const Tensor& w, int64_t row_begin, int64_t row_end, const uint8_t* act,
                    const ActLayout& layout, int64_t n_tokens, float* y, int64_t ldy);

}  // namespace dseek::kernels::avx512
