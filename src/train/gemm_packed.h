// The packed, blocked product shared by the SIMD training GEMMs: a KC x NC
// panel of op(B) and an MC x KC panel of op(A) are copied into strips of NR
// columns / MR rows laid out k-major (packing takes care of the transposes,
// so one micro-kernel serves all four op combinations), then an MR x NR
// micro-kernel keeps its accumulators in registers while it walks k. Each
// instruction set supplies only the micro-kernel (gemm_avx2.cpp,
// gemm_avx512.cpp). Included by those files only.
#pragma once

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/avx2/simd_avx2.h"
#include "train/gemm.h"

namespace dseek::train::packed {

constexpr int64_t kKc = 256;
constexpr int64_t kMc = 120;  // a multiple of every MR used (6, 12)
constexpr int64_t kNc = 512;  // a multiple of every NR used (16, 32); a KC x NC panel is 512 KiB

// Strips of kMr rows: ap[strip][p][ii], zero beyond row r1.
template <int64_t kMr>
DSEEK_TARGET_AVX2 void pack_a(const GemmArgs& g, int64_t i0, int64_t i1, int64_t p0, int64_t kc, float* ap) {
  for (int64_t s = i0; s < i1; s += kMr) {
    const int64_t rows = std::min(kMr, i1 - s);
    if (g.ta == Trans::kYes) {
      for (int64_t p = 0; p < kc; ++p) {
        const float* src = g.a + (p0 + p) * g.lda + s;
        float* dst = ap + p * kMr;
        for (int64_t ii = 0; ii < rows; ++ii) dst[ii] = src[ii];
        for (int64_t ii = rows; ii < kMr; ++ii) dst[ii] = 0.0f;
      }
    } else if (rows == kMr) {
      // Six rows read side by side, eight columns at a time, written k-major.
      const float* r[kMr];
      for (int64_t ii = 0; ii < kMr; ++ii) r[ii] = g.a + (s + ii) * g.lda + p0;
      int64_t p = 0;
      for (; p + 8 <= kc; p += 8) {
        alignas(32) float block[kMr][8];
        for (int64_t ii = 0; ii < kMr; ++ii) _mm256_store_ps(block[ii], _mm256_loadu_ps(r[ii] + p));
        for (int q = 0; q < 8; ++q)
          for (int64_t ii = 0; ii < kMr; ++ii) ap[(p + q) * kMr + ii] = block[ii][q];
      }
      for (; p < kc; ++p)
        for (int64_t ii = 0; ii < kMr; ++ii) ap[p * kMr + ii] = r[ii][p];
    } else {
      for (int64_t ii = 0; ii < kMr; ++ii) {
        if (ii < rows) {
          const float* src = g.a + (s + ii) * g.lda + p0;
          for (int64_t p = 0; p < kc; ++p) ap[p * kMr + ii] = src[p];
        } else {
          for (int64_t p = 0; p < kc; ++p) ap[p * kMr + ii] = 0.0f;
        }
      }
    }
    ap += kc * kMr;
  }
}

// 8 x 8 transpose in registers: rows of `src` (stride ld) become columns of dst (stride kNr).
template <int64_t kNr>
DSEEK_TARGET_AVX2 inline void transpose8(const float* src, int64_t ld, float* dst) {
  __m256 r0 = _mm256_loadu_ps(src + 0 * ld), r1 = _mm256_loadu_ps(src + 1 * ld);
  __m256 r2 = _mm256_loadu_ps(src + 2 * ld), r3 = _mm256_loadu_ps(src + 3 * ld);
  __m256 r4 = _mm256_loadu_ps(src + 4 * ld), r5 = _mm256_loadu_ps(src + 5 * ld);
  __m256 r6 = _mm256_loadu_ps(src + 6 * ld), r7 = _mm256_loadu_ps(src + 7 * ld);
  __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
  __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
  __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
  __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xee);
  __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xee);
  __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xee);
  __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xee);
  _mm256_storeu_ps(dst + 0 * kNr, _mm256_permute2f128_ps(u0, u4, 0x20));
  _mm256_storeu_ps(dst + 1 * kNr, _mm256_permute2f128_ps(u1, u5, 0x20));
  _mm256_storeu_ps(dst + 2 * kNr, _mm256_permute2f128_ps(u2, u6, 0x20));
  _mm256_storeu_ps(dst + 3 * kNr, _mm256_permute2f128_ps(u3, u7, 0x20));
  _mm256_storeu_ps(dst + 4 * kNr, _mm256_permute2f128_ps(u0, u4, 0x31));
  _mm256_storeu_ps(dst + 5 * kNr, _mm256_permute2f128_ps(u1, u5, 0x31));
  _mm256_storeu_ps(dst + 6 * kNr, _mm256_permute2f128_ps(u2, u6, 0x31));
  _mm256_storeu_ps(dst + 7 * kNr, _mm256_permute2f128_ps(u3, u7, 0x31));
}

// Strips of kNr columns: bp[strip][p][jj], zero beyond column c1.
template <int64_t kNr>
DSEEK_TARGET_AVX2 void pack_b(const GemmArgs& g, int64_t j0, int64_t j1, int64_t p0, int64_t kc, float* bp) {
  for (int64_t s = j0; s < j1; s += kNr) {
    const int64_t cols = std::min(kNr, j1 - s);
    if (g.tb == Trans::kNo) {
      for (int64_t p = 0; p < kc; ++p) {
        const float* src = g.b + (p0 + p) * g.ldb + s;
        float* dst = bp + p * kNr;
        if (cols == kNr) {
          for (int64_t jj = 0; jj < kNr; jj += 8) _mm256_storeu_ps(dst + jj, _mm256_loadu_ps(src + jj));
        } else {
          for (int64_t jj = 0; jj < cols; ++jj) dst[jj] = src[jj];
          for (int64_t jj = cols; jj < kNr; ++jj) dst[jj] = 0.0f;
        }
      }
    } else if (cols == kNr) {
      // B is stored [n][k]: transpose 8 x 8 tiles of it.
      const float* src = g.b + s * g.ldb + p0;
      int64_t p = 0;
      for (; p + 8 <= kc; p += 8)
        for (int64_t jj = 0; jj < kNr; jj += 8) transpose8<kNr>(src + jj * g.ldb + p, g.ldb, bp + p * kNr + jj);
      for (; p < kc; ++p)
        for (int64_t jj = 0; jj < kNr; ++jj) bp[p * kNr + jj] = src[jj * g.ldb + p];
    } else {
      for (int64_t jj = 0; jj < kNr; ++jj) {
        if (jj < cols) {
          const float* src = g.b + (s + jj) * g.ldb + p0;
          for (int64_t p = 0; p < kc; ++p) bp[p * kNr + jj] = src[p];
        } else {
          for (int64_t p = 0; p < kc; ++p) bp[p * kNr + jj] = 0.0f;
        }
      }
    }
    bp += kc * kNr;
  }
}

struct Scratch {
  std::vector<float> a, b;
};

// The blocked product with a kMr x kNr micro-kernel
//   Kernel(kc, ap, bp, c, ldc, add): c[kMr][kNr] (+)= ap[kc][kMr] x bp[kc][kNr].
template <int64_t kMr, int64_t kNr, void (*Kernel)(int64_t, const float*, const float*, float*, int64_t, bool)>
void packed_gemm(const GemmArgs& g, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
  static_assert(kMc % kMr == 0 && kNc % kNr == 0 && kNr % 8 == 0);
  if (r0 >= r1 || c0 >= c1) return;
  if (g.k == 0) {
    if (!g.accumulate)
      for (int64_t i = r0; i < r1; ++i) std::fill(g.c + i * g.ldc + c0, g.c + i * g.ldc + c1, 0.0f);
    return;
  }
  thread_local Scratch scratch;
  scratch.a.resize(static_cast<size_t>(kMc * kKc));
  scratch.b.resize(static_cast<size_t>(kNc * kKc));
  float edge[kMr * kNr];
  for (int64_t jc = c0; jc < c1; jc += kNc) {
    const int64_t j_end = std::min(c1, jc + kNc);
    for (int64_t pc = 0; pc < g.k; pc += kKc) {
      const int64_t kc = std::min(kKc, g.k - pc);
      const bool add = g.accumulate || pc > 0;
      pack_b<kNr>(g, jc, j_end, pc, kc, scratch.b.data());
      for (int64_t ic = r0; ic < r1; ic += kMc) {
        const int64_t i_end = std::min(r1, ic + kMc);
        pack_a<kMr>(g, ic, i_end, pc, kc, scratch.a.data());
        for (int64_t jr = jc; jr < j_end; jr += kNr) {
          const float* bp = scratch.b.data() + (jr - jc) / kNr * kc * kNr;
          const int64_t cols = std::min(kNr, j_end - jr);
          for (int64_t ir = ic; ir < i_end; ir += kMr) {
            const float* ap = scratch.a.data() + (ir - ic) / kMr * kc * kMr;
            const int64_t rows = std::min(kMr, i_end - ir);
            float* c = g.c + ir * g.ldc + jr;
            if (rows == kMr && cols == kNr) {
              Kernel(kc, ap, bp, c, g.ldc, add);
              continue;
            }
            Kernel(kc, ap, bp, edge, kNr, false);
            for (int64_t i = 0; i < rows; ++i)
              for (int64_t j = 0; j < cols; ++j) c[i * g.ldc + j] = add ? c[i * g.ldc + j] + edge[i * kNr + j] : edge[i * kNr + j];
          }
        }
      }
    }
  }
}

}  // namespace dseek::train::packed
