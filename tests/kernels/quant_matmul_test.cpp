// Every kernel table the CPU can run has products for every block type, and
// they mean "dequantize the weights (src/quant), then multiply in f32":
// checked against a plain double-precision product of the dequantized
// matrix, including column ranges that cut through blocks.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/kernels.h"
#include "quant/quant.h"

namespace dseek {
namespace {

const DType kBlockTypes[] = {DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1,
                             DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K};

struct Quantized {
  std::vector<uint8_t> bytes;
  std::vector<float> dequantized;  // rows x cols
  Tensor tensor;
};

Quantized make(DType t, int64_t rows, int64_t cols, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> w(static_cast<size_t>(rows * cols));
  for (float& v : w) v = normal(rng);
  Quantized q;
  const int64_t row_bytes_ = *row_bytes(t, cols);
  q.bytes.resize(static_cast<size_t>(rows * row_bytes_));
  q.dequantized.resize(w.size());
  for (int64_t r = 0; r < rows; ++r) {
    quant::quantize(t, w.data() + r * cols, q.bytes.data() + r * row_bytes_, cols);
    quant::dequantize(t, q.bytes.data() + r * row_bytes_, q.dequantized.data() + r * cols, cols);
  }
  q.tensor.name = "w";
  q.tensor.dtype = t;
  q.tensor.rank = 2;
  q.tensor.shape = {rows, cols, 0, 0};
  q.tensor.data = q.bytes.data();
  q.tensor.n_bytes = static_cast<int64_t>(q.bytes.size());
  return q;
}

TEST(QuantMatmul, EveryTableMultipliesEveryBlockType) {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t rows = 6, cols = 512, tokens = 3;
  std::vector<float> x(static_cast<size_t>(tokens * cols));
  for (float& v : x) v = normal(rng);
  for (const kernels::KernelTable* table : kernels::runnable_tables()) {
    for (DType t : kBlockTypes) {
      const Quantized q = make(t, rows, cols, rng);
      auto fn = table->matmul[static_cast<int>(t)];
      ASSERT_NE(fn, nullptr) << table->name << " " << dtype_info(t).name;
      std::vector<float> y(static_cast<size_t>(tokens * rows), -1.0f);
      fn(q.tensor, 0, rows, x.data(), tokens, cols, y.data(), rows);
      for (int64_t tok = 0; tok < tokens; ++tok)
        for (int64_t r = 0; r < rows; ++r) {
          double want = 0;
          for (int64_t c = 0; c < cols; ++c) want += static_cast<double>(q.dequantized[r * cols + c]) * x[tok * cols + c];
          EXPECT_NEAR(y[tok * rows + r], want, 1e-4 * (1 + std::fabs(want))) << table->name << " " << dtype_info(t).name;
        }
    }
  }
}

TEST(QuantMatmul, TransposedProductCutsThroughBlocks) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t rows = 5, cols = 256, tokens = 2;
  std::vector<float> x(static_cast<size_t>(tokens * rows));
  for (float& v : x) v = normal(rng);
  for (const kernels::KernelTable* table : kernels::runnable_tables()) {
    for (DType t : kBlockTypes) {
      const Quantized q = make(t, rows, cols, rng);
      auto fn = table->matmul_transposed[static_cast<int>(t)];
      ASSERT_NE(fn, nullptr) << table->name << " " << dtype_info(t).name;
      std::vector<float> y(static_cast<size_t>(tokens * cols), -1.0f);
      // Ranges that start and end inside blocks of 32 and 256.
      for (auto [c0, c1] : {std::pair<int64_t, int64_t>{0, 40}, {40, 200}, {200, 256}})
        fn(q.tensor, c0, c1, x.data(), tokens, rows, y.data(), cols);
      for (int64_t tok = 0; tok < tokens; ++tok)
        for (int64_t c = 0; c < cols; ++c) {
          double want = 0;
          for (int64_t r = 0; r < rows; ++r) want += static_cast<double>(q.dequantized[r * cols + c]) * x[tok * rows + r];
          EXPECT_NEAR(y[tok * cols + c], want, 1e-4 * (1 + std::fabs(want))) << table->name << " " << dtype_info(t).name;
        }
    }
  }
}

}  // namespace
}  // namespace dseek
