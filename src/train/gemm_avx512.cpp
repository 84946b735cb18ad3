// AVX-512 training products: the packed driver (gemm_packed.h) with a
// 12 x 32 micro-kernel (24 zmm accumulators, two B vectors and one
// broadcast A value: 27 of the 32 registers).
#include "train/gemm_packed.h"

#define DSEEK_TARGET_AVX512 __attribute__((target("avx512f,avx2,fma")))

namespace dseek::train {
namespace avx512 {
namespace {

constexpr int64_t kMr = 12;
constexpr int64_t kNr = 32;

DSEEK_TARGET_AVX512 void micro_kernel(int64_t kc, const float* ap, const float* bp, float* c, int64_t ldc, bool add) {
  __m512 acc[kMr][2];
#pragma GCC unroll 12
  for (int i = 0; i < kMr; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (int64_t p = 0; p < kc; ++p) {
    const __m512 b0 = _mm512_loadu_ps(bp);
    const __m512 b1 = _mm512_loadu_ps(bp + 16);
#pragma GCC unroll 12
    for (int i = 0; i < kMr; ++i) {
      const __m512 a = _mm512_set1_ps(ap[i]);
      acc[i][0] = _mm512_fmadd_ps(a, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(a, b1, acc[i][1]);
    }
    ap += kMr;
    bp += kNr;
  }
#pragma GCC unroll 12
  for (int i = 0; i < kMr; ++i) {
    float* row = c + i * ldc;
    if (add) {
      acc[i][0] = _mm512_add_ps(acc[i][0], _mm512_loadu_ps(row));
      acc[i][1] = _mm512_add_ps(acc[i][1], _mm512_loadu_ps(row + 16));
    }
    _mm512_storeu_ps(row, acc[i][0]);
    _mm512_storeu_ps(row + 16, acc[i][1]);
  }
}

}  // namespace

void fill_gemm_table(GemmTable& table) {
  table.name = "avx512";
  table.gemm = packed::packed_gemm<kMr, kNr, micro_kernel>;
}

}  // namespace avx512
}  // namespace dseek::train
