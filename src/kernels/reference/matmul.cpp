// Scalar reference products: decode one weight row to f32, then plain dot
// products / accumulations in f32.
#include <vector>

#include "kernels/kernels.h"
#include "kernels/reference/row_decode.h"

namespace dseek::kernels {

void matmul_reference(const Tensor& w, int64_t row_begin, int64_t row_end, const float* x,
                      int64_t n_tokens, int64_t ldx, float* y, int64_t ldy) {
  const int64_t cols = w.cols();
  std::vector<float> row(static_cast<size_t>(cols));
  for (int64_t r = row_begin; r < row_end; ++r) {
    decode_row_reference(w, r, 0, cols, row.data());
    for (int64_t t = 0; t < n_tokens; ++t) {
      const float* xt = x + t * ldx;
      float sum = 0.0f;
      for (int64_t c = 0; c < cols; ++c) sum += row[c] * xt[c];
      y[t * ldy + r] = sum;
    }
  }
}

void matmul_transposed_reference(const Tensor& w, int64_t col_begin, int64_t col_end, const float* x,
                                 int64_t n_tokens, int64_t ldx, float* y, int64_t ldy) {
  const int64_t width = col_end - col_begin;
  std::vector<float> row(static_cast<size_t>(width));
  for (int64_t t = 0; t < n_tokens; ++t)
    for (int64_t c = col_begin; c < col_end; ++c) y[t * ldy + c] = 0.0f;
  for (int64_t r = 0; r < w.rows(); ++r) {
    decode_row_reference(w, r, col_begin, col_end, row.data());
    for (int64_t t = 0; t < n_tokens; ++t) {
      const float a = x[t * ldx + r];
      float* yt = y + t * ldy + col_begin;
      for (int64_t c = 0; c < width; ++c) yt[c] += a * row[c];
    }
  }
}

}  // namespace dseek::kernels
