// AVX2 + FMA training products: the packed driver (gemm_packed.h) with a
// 6 x 16 micro-kernel (twelve ymm accumulators).
#include "train/gemm_packed.h"

namespace dseek::train {
namespace avx2 {
namespace {

constexpr int64_t kMr = 6;
constexpr int64_t kNr = 16;

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

}  // namespace

void fill_gemm_table(GemmTable& table) {
  table.name = "avx2";
  table.gemm = packed::packed_gemm<kMr, kNr, micro_kernel>;
}

}  // namespace avx2
}  // namespace dseek::train
