// AVX-512 products for f32, f16, bf16 and block-scaled fp8 weights with f32
// activations (16 lanes, one weight row loaded once per group of up to four
// tokens), and bf16 weights with activations split into three bf16 parts
// (x = hi + mid + lo, exact) on the bf16 dot-product instruction where the
// CPU has it: every product is exact, only the f32 summation order differs
// from the f32 path, and no weight is converted.
// Each token's partial sums live in their own registers, so a token's result
// does not depend on the other tokens of the call.
#include <algorithm>

#include "kernels/avx512/simd_avx512.h"
#include "kernels/kernels.h"
#include "kernels/reference/row_decode.h"

namespace dseek::kernels {

void matmul_reference(const Tensor&, int64_t, int64_t, const float*, int64_t, int64_t, float*, int64_t);

namespace avx512 {
namespace {

// Sixteen weights at column c of a row as f32 (mask: which of them exist).
// For fp8, `scale` is the block scale times 256 (see fp8_e4m3_x16).
template <DType T>
DSEEK_TARGET_AVX512 inline __m512 load16(const uint8_t* row, int64_t c, __mmask16 mask, __m512 scale) {
  if constexpr (T == DType::F32) {
    return _mm512_maskz_loadu_ps(mask, reinterpret_cast<const float*>(row) + c);
  } else if constexpr (T == DType::BF16) {
    const __m256i h = _mm256_maskz_loadu_epi16(mask, reinterpret_cast<const uint16_t*>(row) + c);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  } else if constexpr (T == DType::F16) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, reinterpret_cast<const uint16_t*>(row) + c));
  } else {
    static_assert(T == DType::F8_E4M3);
    // e4m3 bits (sign aside) shifted into an f16's exponent and mantissa read
    // as that f16 are the value times 2^-8, subnormals included; the NaN code
    // S.1111.111 is put back by hand.
    const __m256i codes = _mm256_cvtepu8_epi16(_mm_maskz_loadu_epi8(mask, row + c));
    const __m256i magnitude = _mm256_and_si256(codes, _mm256_set1_epi16(0x7f));
    const __m256i sign = _mm256_slli_epi16(_mm256_and_si256(codes, _mm256_set1_epi16(0x80)), 8);
    const __m256i f16 = _mm256_or_si256(_mm256_slli_epi16(magnitude, 7), sign);
    __m512 v = _mm512_mul_ps(_mm512_cvtph_ps(f16), scale);
    const __mmask16 nan = _mm256_cmpeq_epi16_mask(magnitude, _mm256_set1_epi16(0x7f));
    return _mm512_mask_mov_ps(v, nan, _mm512_set1_ps(__builtin_nanf("")));
  }
}

template <DType T, int NT>
DSEEK_TARGET_AVX512 void dot_row_tokens(const Tensor& w, const uint8_t* row, int64_t r, const float* x, int64_t ldx,
                                        float* y, int64_t ldy) {
  const int64_t cols = w.cols();
  __m512 acc[NT];
  for (int k = 0; k < NT; ++k) acc[k] = _mm512_setzero_ps();
  const int64_t block = T == DType::F8_E4M3 ? w.block_scale.block_cols : cols;
  for (int64_t c0 = 0; c0 < cols; c0 += block) {
    __m512 scale = _mm512_set1_ps(1.0f);
    if constexpr (T == DType::F8_E4M3) scale = _mm512_set1_ps(block_scale_at(w.block_scale, r, c0) * 256.0f);
    const int64_t c_end = std::min(cols, c0 + block);
    for (int64_t c = c0; c < c_end; c += 16) {
      const int64_t left = c_end - c;
      const __mmask16 mask = left >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << left) - 1u);
      const __m512 wv = load16<T>(row, c, mask, scale);
      for (int k = 0; k < NT; ++k) acc[k] = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(mask, x + k * ldx + c), acc[k]);
    }
  }
  for (int k = 0; k < NT; ++k) y[k * ldy + r] = hsum(acc[k]);
}

template <DType T>
DSEEK_TARGET_AVX512 void matmul(const Tensor& w, int64_t row_begin, int64_t row_end, const float* x, int64_t n_tokens,
                                int64_t ldx, float* y, int64_t ldy) {
  if constexpr (T == DType::F8_E4M3) {
    // 256 * scale must stay exact: fall back for odd block widths.
    if (w.block_scale.block_cols % 16 != 0) {
      matmul_reference(w, row_begin, row_end, x, n_tokens, ldx, y, ldy);
      return;
    }
  }
  const int64_t stride = w.row_stride_bytes();
  for (int64_t r = row_begin; r < row_end; ++r) {
    const uint8_t* row = w.data + r * stride;
    int64_t t = 0;
    for (; t + 4 <= n_tokens; t += 4) dot_row_tokens<T, 4>(w, row, r, x + t * ldx, ldx, y + t * ldy, ldy);
    switch (n_tokens - t) {
      case 3: dot_row_tokens<T, 3>(w, row, r, x + t * ldx, ldx, y + t * ldy, ldy); break;
      case 2: dot_row_tokens<T, 2>(w, row, r, x + t * ldx, ldx, y + t * ldy, ldy); break;
      case 1: dot_row_tokens<T, 1>(w, row, r, x + t * ldx, ldx, y + t * ldy, ldy); break;
      default: break;
    }
  }
}

// bf16 weights times (hi + mid + lo) activations: three bf16 pair-dot
// instructions per 32 columns, products accumulated in f32.
template <int NT>
DSEEK_TARGET_AVX512BF16 void bf16_row_tokens(const uint8_t* row, int64_t cols, const uint8_t* act,
                                             const ActLayout& layout, float* y, int64_t ldy, int64_t r) {
  __m512 acc[NT];
  for (int k = 0; k < NT; ++k) acc[k] = _mm512_setzero_ps();
  const uint16_t* wr = reinterpret_cast<const uint16_t*>(row);
  for (int64_t c = 0; c < cols; c += 32) {
    const int64_t left = cols - c;
    const __mmask32 mask = left >= 32 ? __mmask32(0xFFFFFFFFu) : static_cast<__mmask32>((1u << left) - 1u);
    const __m512bh wv = (__m512bh)_mm512_maskz_loadu_epi16(mask, wr + c);
    for (int k = 0; k < NT; ++k) {
      const ActView a{act + k * layout.bytes, &layout};
      acc[k] = _mm512_dpbf16_ps(acc[k], wv, (__m512bh)_mm512_loadu_si512(a.hi() + c));
      acc[k] = _mm512_dpbf16_ps(acc[k], wv, (__m512bh)_mm512_loadu_si512(a.mid() + c));
      acc[k] = _mm512_dpbf16_ps(acc[k], wv, (__m512bh)_mm512_loadu_si512(a.lo() + c));
    }
  }
  for (int k = 0; k < NT; ++k) y[k * ldy + r] = hsum(acc[k]);
}

DSEEK_TARGET_AVX512BF16 void matmul_bf16_split(const Tensor& w, int64_t row_begin, int64_t row_end, const uint8_t* act,
                                               const ActLayout& layout, int64_t n_tokens, float* y, int64_t ldy) {
  const int64_t cols = w.cols();
  const int64_t stride = w.row_stride_bytes();
  for (int64_t r = row_begin; r < row_end; ++r) {
    const uint8_t* row = w.data + r * stride;
    int64_t t = 0;
    for (; t + 4 <= n_tokens; t += 4) bf16_row_tokens<4>(row, cols, act + t * layout.bytes, layout, y + t * ldy, ldy, r);
    const uint8_t* at = act + t * layout.bytes;
    switch (n_tokens - t) {
      case 3: bf16_row_tokens<3>(row, cols, at, layout, y + t * ldy, ldy, r); break;
      case 2: bf16_row_tokens<2>(row, cols, at, layout, y + t * ldy, ldy, r); break;
      case 1: bf16_row_tokens<1>(row, cols, at, layout, y + t * ldy, ldy, r); break;
      default: break;
    }
  }
}

}  // namespace

void fill_matmul(KernelTable& table, bool has_bf16) {
  table.matmul[static_cast<int>(DType::F32)] = matmul<DType::F32>;
  table.matmul[static_cast<int>(DType::BF16)] = matmul<DType::BF16>;
  table.matmul[static_cast<int>(DType::F16)] = matmul<DType::F16>;
  table.matmul[static_cast<int>(DType::F8_E4M3)] = matmul<DType::F8_E4M3>;
  table.matmul_act[static_cast<int>(DType::BF16)] = has_bf16 ? matmul_bf16_split : nullptr;
  table.act_format[static_cast<int>(DType::BF16)] = has_bf16 ? ActFormat::kBF16Split : ActFormat::kF32;
}

}  // namespace avx512
}  // namespace dseek::kernels
