// The scalar twin of the training products: one dot product per element,
// summed in f32 in increasing k.
#include "train/gemm.h"

namespace dseek::train {

void gemm_reference(const GemmArgs& g, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
  for (int64_t i = r0; i < r1; ++i) {
    for (int64_t j = c0; j < c1; ++j) {
      float sum = 0.0f;
      for (int64_t p = 0; p < g.k; ++p) {
        const float a = g.ta == Trans::kNo ? g.a[i * g.lda + p] : g.a[p * g.lda + i];
        const float b = g.tb == Trans::kNo ? g.b[p * g.ldb + j] : g.b[j * g.ldb + p];
        sum += a * b;
      }
      float& c = g.c[i * g.ldc + j];
      c = g.accumulate ? c + sum : sum;
    }
  }
}

}  // namespace dseek::train
