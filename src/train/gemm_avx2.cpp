// AVX2 + FMA training products in the usual packed form: a KC x NC panel of
// op(B) and an MC x KC panel of op(A) are copied into strips of NR columns /
// MR rows laid out k-major, then a 6 x 16 micro-kernel keeps twelve
// accumulators in registers while it walks k. Packing takes care of the
// transposes, so one micro-kernel serves all four op combinations.
#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/avx2/simd_avx2.h"
#include "train/gemm.h"

namespace dseek::train {
namespace avx2 {
namespace {

constexpr int64_t kMr = 6;
constexpr int64_t kNr = 16;
constexpr int64_t kKc = 256;
constexpr int64_t kMc = 120;  // a multiple of kMr
constexpr int64_t kNc = 256;  // a multiple of kNr

inline float op_a(const GemmArgs& g, int64_t i, int64_t p) {
  return g.ta == Trans::kNo ? g.a[i * g.lda + p] : g.a[p * g.lda + i];
}

// Strips of kMr rows: ap[strip][p][ii], zero beyond row r1.
void pack_a(const GemmArgs& g, int64_t i0, int64_t i1, int64_t p0, int64_t kc, float* ap) {
  for (int64_t s = i0; s < i1; s += kMr) {
    const int64_t rows = std::min(kMr, i1 - s);
    if (g.ta == Trans::kYes) {
      for (int64_t p = 0; p < kc; ++p) {
        const float* src = g.a + (p0 + p) * g.lda + s;
        float* dst = ap + p * kMr;
        for (int64_t ii = 0; ii < rows; ++ii) dst[ii] = src[ii];
        for (int64_t ii = rows; ii < kMr; ++ii) dst[ii] = 0.0f;
      }
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

// Strips of kNr columns: bp[strip][p][jj], zero beyond column c1.
void pack_b(const GemmArgs& g, int64_t j0, int64_t j1, int64_t p0, int64_t kc, float* bp) {
  for (int64_t s = j0; s < j1; s += kNr) {
    const int64_t cols = std::min(kNr, j1 - s);
    if (g.tb == Trans::kNo) {
      for (int64_t p = 0; p < kc; ++p) {
        const float* src = g.b + (p0 + p) * g.ldb + s;
        float* dst = bp + p * kNr;
        std::memcpy(dst, src, sizeof(float) * cols);
        for (int64_t jj = cols; jj < kNr; ++jj) dst[jj] = 0.0f;
      }
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

// c[6][16] (+)= ap[kc][6] x bp[kc][16].
DSEEK_TARGET_AVX2 void micro_kernel(int64_t kc, const float* ap, const float* bp, float* c, int64_t ldc, bool add) {
  __m256 acc[kMr][2];
#pragma GCC unroll 6
  for (int i = 0; i < kMr; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
  for (int64_t p = 0; p < kc; ++p) {
    const __m256 b0 = _mm256_loadu_ps(bp);
    const __m256 b1 = _mm256_loadu_ps(bp + 8);
#pragma GCC unroll 6
    for (int i = 0; i < kMr; ++i) {
      const __m256 a = _mm256_broadcast_ss(ap + i);
      acc[i][0] = _mm256_fmadd_ps(a, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(a, b1, acc[i][1]);
    }
    ap += kMr;
    bp += kNr;
  }
#pragma GCC unroll 6
  for (int i = 0; i < kMr; ++i) {
    float* row = c + i * ldc;
    if (add) {
      acc[i][0] = _mm256_add_ps(acc[i][0], _mm256_loadu_ps(row));
      acc[i][1] = _mm256_add_ps(acc[i][1], _mm256_loadu_ps(row + 8));
    }
    _mm256_storeu_ps(row, acc[i][0]);
    _mm256_storeu_ps(row + 8, acc[i][1]);
  }
}

struct Scratch {
  std::vector<float> a, b;
};

void gemm(const GemmArgs& g, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
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
      pack_b(g, jc, j_end, pc, kc, scratch.b.data());
      for (int64_t ic = r0; ic < r1; ic += kMc) {
        const int64_t i_end = std::min(r1, ic + kMc);
        pack_a(g, ic, i_end, pc, kc, scratch.a.data());
        for (int64_t jr = jc; jr < j_end; jr += kNr) {
          const float* bp = scratch.b.data() + (jr - jc) / kNr * kc * kNr;
          const int64_t cols = std::min(kNr, j_end - jr);
          for (int64_t ir = ic; ir < i_end; ir += kMr) {
            const float* ap = scratch.a.data() + (ir - ic) / kMr * kc * kMr;
            const int64_t rows = std::min(kMr, i_end - ir);
            float* c = g.c + ir * g.ldc + jr;
            if (rows == kMr && cols == kNr) {
              micro_kernel(kc, ap, bp, c, g.ldc, add);
              continue;
            }
            micro_kernel(kc, ap, bp, edge, kNr, false);
            for (int64_t i = 0; i < rows; ++i)
              for (int64_t j = 0; j < cols; ++j) c[i * g.ldc + j] = add ? c[i * g.ldc + j] + edge[i * kNr + j] : edge[i * kNr + j];
          }
        }
      }
    }
  }
}

}  // namespace

void fill_gemm_table(GemmTable& table) {
  table.name = "avx2";
  table.gemm = gemm;
}

}  // namespace avx2
}  // namespace dseek::train
