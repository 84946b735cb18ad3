#include "weights/tensor.h"

namespace dseek {

int64_t Tensor::numel() const {
  int64_t n = 1;
  for (int i = 0; i < rank; ++i) n *= shape[i];
  return n;
}

int64_t Tensor::row_stride_bytes() const {
  auto bytes = row_bytes(dtype, cols());
  DSEEK_CHECK(bytes.has_value());
  return *bytes;
}

Tensor Tensor::row_range(int64_t begin, int64_t end) const {
  DSEEK_CHECK(begin >= 0 && begin <= end && end <= rows());
  Tensor view = *this;
  view.rank = 2;
  view.shape = {end - begin, cols(), 0, 0};
  view.data = data + begin * row_stride_bytes();
  view.n_bytes = (end - begin) * row_stride_bytes();
  view.block_scale.row_offset += begin;
  view.packed = nullptr;
  return view;
}

Tensor Tensor::slice_outer(int64_t index) const {
  DSEEK_CHECK(rank >= 2 && index >= 0 && index < shape[0]);
  Tensor view = *this;
  view.rank = rank - 1;
  for (int i = 0; i < 3; ++i) view.shape[i] = shape[i + 1];
  view.shape[3] = 0;
  int64_t rows_per_slice = view.rows();
  view.data = data + index * rows_per_slice * row_stride_bytes();
  view.n_bytes = rows_per_slice * row_stride_bytes();
  view.block_scale.row_offset += index * rows_per_slice;
  view.name = name + "[" + std::to_string(index) + "]";
  view.packed = nullptr;
  return view;
}

std::string Tensor::shape_string() const {
  std::string s = "[";
  for (int i = 0; i < rank; ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

Status expect_shape(const Tensor& t, std::initializer_list<int64_t> shape) {
  bool same = static_cast<int>(shape.size()) == t.rank;
  int i = 0;
  for (int64_t d : shape) {
    if (!same) break;
    same = t.shape[i++] == d;
  }
  if (same) return ok_status();
  std::string want = "[";
  i = 0;
  for (int64_t d : shape) want += (i++ ? ", " : "") + std::to_string(d);
  return Error{"tensor " + t.name + " has shape " + t.shape_string() + ", expected " + want + "]"};
}

}  // namespace dseek
