// A weight tensor as the kernels see it: a typed, shaped view of bytes that
// live in a memory-mapped file (never copied at load). Row-major, outermost
// dimension first, as in safetensors; a linear layer's weight is [out, in].
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "util/result.h"
#include "weights/dtype.h"

namespace dseek {

namespace kernels {
struct PackedWeights;  // kernels/kernels.h
}

// DeepSeek-V3 ships fp8 weights with one f32 scale per block of
// block_rows x block_cols elements: w = fp8 * scale[r / block_rows][c / block_cols].
struct BlockScale {
  const float* data = nullptr;  // [ceil(rows/block_rows)][ceil(cols/block_cols)]
  int64_t rows = 0;
  int64_t cols = 0;
  int block_rows = 128;
  int block_cols = 128;
  // Row of the full tensor that row 0 of this view is (views of a row range
  // keep addressing the scales of the original tensor).
  int64_t row_offset = 0;

  float at(int64_t row, int64_t col) const {
    return data[(row + row_offset) / block_rows * cols + col / block_cols];
  }
};

struct Tensor {
  std::string name;
  DType dtype = DType::F32;
  int rank = 0;
  std::array<int64_t, 4> shape{};  // outermost first; unused dims are 0
  const uint8_t* data = nullptr;
  int64_t n_bytes = 0;
  BlockScale block_scale;  // set only for F8_E4M3
  // A kernel table's rearranged copy of these bytes for products with
  // several tokens (ops::pack_for_batches), or null. Owned by whoever packed
  // it (the model); views of part of the tensor do not carry it.
  const kernels::PackedWeights* packed = nullptr;

  bool valid() const { return data != nullptr; }
  int64_t numel() const;
  // As a matrix: cols = innermost dimension, rows = product of the others.
  int64_t cols() const { return rank == 0 ? 1 : shape[rank - 1]; }
  int64_t rows() const { return cols() == 0 ? 0 : numel() / cols(); }
  int64_t row_stride_bytes() const;
  const uint8_t* row_data(int64_t r) const { return data + r * row_stride_bytes(); }

  // View of rows [begin, end) as a 2-D tensor.
  Tensor row_range(int64_t begin, int64_t end) const;
  // View of sub-tensor `index` of the outermost dimension (a stacked expert).
  Tensor slice_outer(int64_t index) const;

  std::string shape_string() const;
};

// Checks rank and exact shape; the error names the tensor.
Status expect_shape(const Tensor& t, std::initializer_list<int64_t> shape);

}  // namespace dseek
