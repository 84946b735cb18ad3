// AVX2 + FMA products for f32, bf16, f16 and block-scaled fp8 weights. One
// weight row is loaded once per group of up to four tokens (batched prefill
// reuses it); partial sums stay in registers.
#include <algorithm>
#include <vector>

#include "kernels/avx2/simd_avx2.h"
#include "kernels/kernels.h"
#include "kernels/reference/row_decode.h"

namespace dseek::kernels {

void matmul_reference(const Tensor&, int64_t, int64_t, const float*, int64_t, int64_t, float*, int64_t);
void matmul_transposed_reference(const Tensor&, int64_t, int64_t, const float*, int64_t, int64_t, float*,
                                 int64_t);

namespace avx2 {
namespace {

// The fp8 scale of columns [c, c+8) of row r (blocks are multiples of 8 wide).
template <DType T>
DSEEK_TARGET_AVX2 inline float scale_for(const Tensor& w, int64_t r, int64_t c) {
  if constexpr (T == DType::F8_E4M3) return block_scale_at(w.block_scale, r, c);
  return 1.0f;
}

template <DType T, int NT>
DSEEK_TARGET_AVX2 void dot_rows_tokens(const Tensor& w, int64_t r, const float* x, int64_t ldx, float* y,
                                       int64_t ldy) {
  const int64_t cols = w.cols();
  const uint8_t* row = w.row_data(r);
  __m256 acc[NT];
  for (int k = 0; k < NT; ++k) acc[k] = _mm256_setzero_ps();
  int64_t c = 0;
  const int64_t vec_cols = cols / 8 * 8;
  if constexpr (T == DType::F8_E4M3) {
    // One scale per block of columns; blocks are a multiple of 8 wide.
    const int64_t block = w.block_scale.block_cols;
    for (int64_t c0 = 0; c0 < vec_cols; c0 += block) {
      const float scale = block_scale_at(w.block_scale, r, c0);
      const int64_t c_stop = std::min(vec_cols, c0 + block);
      for (int64_t cc = c0; cc < c_stop; cc += 8) {
        __m256 wv = load8<T>(row, cc, scale);
        for (int k = 0; k < NT; ++k) acc[k] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + k * ldx + cc), acc[k]);
      }
    }
  } else {
    for (int64_t cc = 0; cc < vec_cols; cc += 8) {
      __m256 wv = load8<T>(row, cc, 1.0f);
      for (int k = 0; k < NT; ++k) acc[k] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + k * ldx + cc), acc[k]);
    }
  }
  c = vec_cols;
  float tail[8];
  const int64_t n_tail = cols - c;
  if (n_tail > 0) decode_row_reference(w, r, c, cols, tail);
  for (int k = 0; k < NT; ++k) {
    float sum = hsum(acc[k]);
    for (int64_t i = 0; i < n_tail; ++i) sum += tail[i] * x[k * ldx + c + i];
    y[k * ldy + r] = sum;
  }
}

template <DType T>
DSEEK_TARGET_AVX2 void matmul(const Tensor& w, int64_t row_begin, int64_t row_end, const float* x,
                              int64_t n_tokens, int64_t ldx, float* y, int64_t ldy) {
  if constexpr (T == DType::F8_E4M3) {
    if (w.block_scale.block_cols % 8 != 0) {
      matmul_reference(w, row_begin, row_end, x, n_tokens, ldx, y, ldy);
      return;
    }
  }
  for (int64_t r = row_begin; r < row_end; ++r) {
    int64_t t = 0;
    for (; t + 4 <= n_tokens; t += 4) dot_rows_tokens<T, 4>(w, r, x + t * ldx, ldx, y + t * ldy, ldy);
    switch (n_tokens - t) {
      case 3: dot_rows_tokens<T, 3>(w, r, x + t * ldx, ldx, y + t * ldy, ldy); break;
      case 2: dot_rows_tokens<T, 2>(w, r, x + t * ldx, ldx, y + t * ldy, ldy); break;
      case 1: dot_rows_tokens<T, 1>(w, r, x + t * ldx, ldx, y + t * ldy, ldy); break;
      default: break;
    }
  }
}

// y[t, c] += a[t] * W[r, c] over the rows, eight columns at a time.
template <DType T>
DSEEK_TARGET_AVX2 void matmul_transposed(const Tensor& w, int64_t col_begin, int64_t col_end, const float* x,
                                         int64_t n_tokens, int64_t ldx, float* y, int64_t ldy) {
  const bool aligned_blocks = T != DType::F8_E4M3 || w.block_scale.block_cols % 8 == 0;
  if (!aligned_blocks || col_begin % 8 != 0) {
    matmul_transposed_reference(w, col_begin, col_end, x, n_tokens, ldx, y, ldy);
    return;
  }
  for (int64_t t = 0; t < n_tokens; ++t)
    for (int64_t c = col_begin; c < col_end; ++c) y[t * ldy + c] = 0.0f;
  const int64_t vec_end = col_begin + (col_end - col_begin) / 8 * 8;
  float tail[8];
  for (int64_t r = 0; r < w.rows(); ++r) {
    const uint8_t* row = w.row_data(r);
    for (int64_t c = col_begin; c < vec_end; c += 8) {
      __m256 wv = load8<T>(row, c, scale_for<T>(w, r, c));
      for (int64_t t = 0; t < n_tokens; ++t) {
        float* yt = y + t * ldy + c;
        _mm256_storeu_ps(yt, _mm256_fmadd_ps(_mm256_set1_ps(x[t * ldx + r]), wv, _mm256_loadu_ps(yt)));
      }
    }
    if (vec_end < col_end) {
      decode_row_reference(w, r, vec_end, col_end, tail);
      for (int64_t t = 0; t < n_tokens; ++t)
        for (int64_t c = vec_end; c < col_end; ++c) y[t * ldy + c] += x[t * ldx + r] * tail[c - vec_end];
    }
  }
}

}  // namespace

void fill_matmul(KernelTable& table) {
  table.matmul[static_cast<int>(DType::F32)] = matmul<DType::F32>;
  table.matmul[static_cast<int>(DType::BF16)] = matmul<DType::BF16>;
  table.matmul[static_cast<int>(DType::F16)] = matmul<DType::F16>;
  table.matmul[static_cast<int>(DType::F8_E4M3)] = matmul<DType::F8_E4M3>;
  table.matmul_transposed[static_cast<int>(DType::F32)] = matmul_transposed<DType::F32>;
  table.matmul_transposed[static_cast<int>(DType::BF16)] = matmul_transposed<DType::BF16>;
  table.matmul_transposed[static_cast<int>(DType::F16)] = matmul_transposed<DType::F16>;
  table.matmul_transposed[static_cast<int>(DType::F8_E4M3)] = matmul_transposed<DType::F8_E4M3>;
}

}  // namespace avx2
}  // namespace dseek::kernels
