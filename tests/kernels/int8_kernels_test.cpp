// The products on quantized activations (int8 for block types, bf16 split
// three ways for BF16), three ways:
//  1. every table's activation quantizer writes the same bytes as the
//     scalar one (reference/int8_matmul.cpp);
//  2. every table's kernel equals the scalar twin bit for bit (bf16: within
//     the f32 accumulation bound, the instruction pairs products its own way),
//     whatever the row split and the number of tokens in the call;
//  3. the twin stays within the error that quantizing the activations
//     allows of the definition (dequantize the row, dot in double):
//     |y - truth| <= sum_i |w_i| * |x_i - xhat_i| + f32 accumulation, where
//     xhat is the dequantized activation; and |x_i - xhat_i| <= d/2 (checked).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/int8_format.h"
#include "kernels/kernels.h"
#include "kernels/reference/row_decode.h"
#include "quant/quant.h"
#include "util/numeric_formats.h"

namespace dseek::kernels {
namespace {

const DType kActTypes[] = {DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q2_K,
                           DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::BF16};

struct Weights {
  std::vector<uint8_t> bytes;
  Tensor tensor;
};

Weights make_weights(DType t, int64_t rows, int64_t cols, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> w(static_cast<size_t>(rows * cols));
  for (float& v : w) v = normal(rng);
  // Some rows at very different scales, some constant blocks and zeros.
  for (int64_t c = 0; c < cols; ++c) {
    if (rows > 2) w[2 * cols + c] *= 1e-3f;
    if (rows > 3 && c < 32) w[3 * cols + c] = 0.0f;
  }
  Weights out;
  const int64_t rb = *row_bytes(t, cols);
  out.bytes.resize(static_cast<size_t>(rows * rb));
  for (int64_t r = 0; r < rows; ++r) quant::quantize(t, w.data() + r * cols, out.bytes.data() + r * rb, cols);
  out.tensor.name = "w";
  out.tensor.dtype = t;
  out.tensor.rank = 2;
  out.tensor.shape = {rows, cols, 0, 0};
  out.tensor.data = out.bytes.data();
  out.tensor.n_bytes = static_cast<int64_t>(out.bytes.size());
  return out;
}

std::vector<float> make_activations(int64_t n_tokens, int64_t cols, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n_tokens * cols));
  for (float& v : x) v = normal(rng);
  // An outlier, a zero block, and a tie at a rounding midpoint.
  x[0] = 40.0f;
  if (cols >= 64) std::fill(x.begin() + 32, x.begin() + 64, 0.0f);
  return x;
}

std::vector<uint8_t> quantize_all(const KernelTable& table, const ActLayout& layout, const std::vector<float>& x,
                                  int64_t n_tokens) {
  std::vector<uint8_t> out(static_cast<size_t>(n_tokens * layout.bytes + 64));
  // Kernels may assume 64-byte alignment of each token's buffer.
  uint8_t* base = out.data() + (64 - reinterpret_cast<uintptr_t>(out.data()) % 64) % 64;
  for (int64_t t = 0; t < n_tokens; ++t)
    table.quantize_act[static_cast<int>(layout.format)](x.data() + t * layout.n, layout, base + t * layout.bytes);
  std::vector<uint8_t> aligned(base, base + n_tokens * layout.bytes);
  return aligned;
}

// Stored aligned for the kernels.
struct Acts {
  std::vector<uint8_t> storage;
  uint8_t* data = nullptr;
  explicit Acts(const std::vector<uint8_t>& bytes) : storage(bytes.size() + 64) {
    data = storage.data() + (64 - reinterpret_cast<uintptr_t>(storage.data()) % 64) % 64;
    std::memcpy(data, bytes.data(), bytes.size());
  }
};

std::vector<int64_t> shapes_for(DType t) {
  if (t == DType::BF16) return {1, 31, 32, 33, 100, 512};
  // Blocks 1, 3, 7, 16, 17, 37, 44 (a V2-Lite expert's down projection), 64.
  if (int8_act_format(t) == ActFormat::kQ8_32) return {32, 96, 224, 512, 544, 1184, 1408, 2048};
  return {256, 512, 768, 4352};                                                          // 1, 2, 3, 17 super-blocks
}

std::string name_of(DType t) { return std::string(dtype_info(t).name); }

TEST(Int8Kernels, EveryQuantizerWritesTheReferenceBytes) {
  std::mt19937 rng(21);
  for (ActFormat f : {ActFormat::kQ8_32, ActFormat::kQ8_256, ActFormat::kBF16Split}) {
    for (int64_t n : {256, 512, 4352}) {
      const ActLayout layout = ActLayout::make(f, n);
      std::vector<float> x = make_activations(3, n, rng);
      x[5] = 1.5f * 40.0f / 127.0f;  // exactly halfway between two steps of the first block
      const auto want = quantize_all(reference_table(), layout, x, 3);
      for (const KernelTable* table : runnable_tables()) {
        if (!table->quantize_act[static_cast<int>(f)]) continue;
        const auto got = quantize_all(*table, layout, x, 3);
        ASSERT_EQ(got, want) << table->name << " format " << static_cast<int>(f) << " n=" << n;
      }
    }
  }
}

TEST(Int8Kernels, EveryTableEqualsTheScalarTwin) {
  std::mt19937 rng(8);
  for (DType t : kActTypes) {
    const MatmulActFn twin = reference_table().matmul_act[static_cast<int>(t)];
    ASSERT_NE(twin, nullptr) << name_of(t);
    const ActFormat format = reference_table().act_format[static_cast<int>(t)];
    for (int64_t cols : shapes_for(t)) {
      const int64_t rows = 53;
      const Weights w = make_weights(t, rows, cols, rng);
      const ActLayout layout = ActLayout::make(format, cols);
      for (int64_t n_tokens : {1, 2, 5, 9, 15}) {
        const auto x = make_activations(n_tokens, cols, rng);
        const Acts act(quantize_all(reference_table(), layout, x, n_tokens));
        const int64_t ldy = rows + 3;
        std::vector<float> want(static_cast<size_t>(n_tokens * ldy), -7.0f);
        twin(w.tensor, 0, rows, act.data, layout, n_tokens, want.data(), ldy);
        for (const KernelTable* table : runnable_tables()) {
          const MatmulActFn fn = table->matmul_act[static_cast<int>(t)];
          if (!fn || table == &reference_table()) continue;
          ASSERT_EQ(table->act_format[static_cast<int>(t)], format);
          std::vector<float> got(want.size(), -7.0f);
          // Split the rows as the thread pool might: 16 rows (one tile for
          // the matrix-matrix paths), then 32 (two tiles, which the AVX-512
          // table computes together).
          fn(w.tensor, 0, 5, act.data, layout, n_tokens, got.data(), ldy);
          fn(w.tensor, 5, 21, act.data, layout, n_tokens, got.data(), ldy);
          fn(w.tensor, 21, rows, act.data, layout, n_tokens, got.data(), ldy);
          // Each token alone gives the same as in the batch.
          std::vector<float> alone(want.size(), -7.0f);
          for (int64_t k = 0; k < n_tokens; ++k)
            fn(w.tensor, 0, rows, act.data + k * layout.bytes, layout, 1, alone.data() + k * ldy, ldy);
          for (int64_t k = 0; k < n_tokens; ++k) {
            for (int64_t r = 0; r < rows; ++r) {
              const float a = got[k * ldy + r], b = want[k * ldy + r];
              const std::string what = std::string(table->name) + " " + name_of(t) + " cols=" +
                                       std::to_string(cols) + " token " + std::to_string(k) + " row " +
                                       std::to_string(r);
              ASSERT_EQ(std::memcmp(&a, &alone[k * ldy + r], 4), 0) << what << ": batch " << a << " alone " << alone[k * ldy + r];
              if (t == DType::BF16) {
                // f32 accumulation of 3*cols exact products of magnitude <= |w||x|.
                double mag = 0;
                std::vector<float> wr(static_cast<size_t>(cols));
                decode_row_reference(w.tensor, r, 0, cols, wr.data());
                for (int64_t c = 0; c < cols; ++c) mag += std::fabs(wr[c] * x[k * cols + c]);
                ASSERT_NEAR(a, b, 2.0 * (3 * cols + 16) * 6e-8 * mag + 1e-30) << what;
              } else {
                ASSERT_EQ(std::memcmp(&a, &b, 4), 0) << what << ": got " << a << " twin " << b;
              }
            }
            ASSERT_EQ(got[k * ldy + rows], -7.0f) << "wrote outside its rows";
          }
        }
      }
    }
  }
}

// A table's packed copy of a matrix (ops::pack_for_batches, what a server
// keeps of the weights every token reads) gives the scalar twin's bits too,
// however the rows are split (tiles of 16, ranges that start or end inside
// one, rows past the last whole tile) and for every token count; and views
// of part of the tensor drop it.
TEST(Int8Kernels, PackedCopyGivesTheTwinsBits) {
  std::mt19937 rng(13);
  int packed_types = 0;
  for (DType t : kActTypes) {
    const MatmulActFn twin = reference_table().matmul_act[static_cast<int>(t)];
    const ActFormat format = reference_table().act_format[static_cast<int>(t)];
    for (const KernelTable* table : runnable_tables()) {
      const PackFn pack = table->pack[static_cast<int>(t)];
      const MatmulActFn fn = table->matmul_act[static_cast<int>(t)];
      if (!pack || !fn) continue;
      ++packed_types;
      for (int64_t cols : shapes_for(t)) {
        for (int64_t rows : {16, 53}) {
          Weights w = make_weights(t, rows, cols, rng);
          const std::unique_ptr<PackedWeights> packed = pack(w.tensor);
          ASSERT_NE(packed, nullptr) << table->name << " " << name_of(t);
          EXPECT_EQ(packed->rows, rows / 16 * 16);
          w.tensor.packed = packed.get();
          EXPECT_EQ(w.tensor.row_range(0, 16).packed, nullptr);
          const ActLayout layout = ActLayout::make(format, cols);
          for (int64_t n_tokens : {1, 2, 3, 8, 9, 17}) {
            const auto x = make_activations(n_tokens, cols, rng);
            const Acts act(quantize_all(reference_table(), layout, x, n_tokens));
            const int64_t ldy = rows + 1;
            std::vector<float> want(static_cast<size_t>(n_tokens * ldy), -7.0f);
            twin(w.tensor, 0, rows, act.data, layout, n_tokens, want.data(), ldy);
            std::vector<float> whole(want.size(), -7.0f), split(want.size(), -7.0f);
            fn(w.tensor, 0, rows, act.data, layout, n_tokens, whole.data(), ldy);
            const int64_t cuts[] = {0, 5, 16, 37, rows};
            for (int i = 0; i + 1 < 5; ++i) {
              const int64_t b = std::min(cuts[i], rows), e = std::min(cuts[i + 1], rows);
              if (b < e) fn(w.tensor, b, e, act.data, layout, n_tokens, split.data(), ldy);
            }
            const std::string what = std::string(table->name) + " " + name_of(t) + " cols=" + std::to_string(cols) +
                                     " rows=" + std::to_string(rows) + " tokens=" + std::to_string(n_tokens);
            ASSERT_EQ(std::memcmp(whole.data(), want.data(), want.size() * 4), 0) << what;
            ASSERT_EQ(std::memcmp(split.data(), want.data(), want.size() * 4), 0) << what << " (rows split)";
          }
        }
      }
    }
  }
  // Where the CPU runs the AVX-512 table, it packs the 32-element block types.
  for (const KernelTable* table : runnable_tables())
    if (std::string(table->name) == "avx512") EXPECT_GE(packed_types, 5);
}

// The activation as the int8 / bf16 kernels see it, dequantized.
std::vector<double> dequantized_activation(const ActLayout& layout, const uint8_t* bytes) {
  const ActView a{bytes, &layout};
  std::vector<double> v(static_cast<size_t>(layout.n));
  for (int64_t i = 0; i < layout.n; ++i) {
    if (layout.format == ActFormat::kBF16Split)
      v[i] = static_cast<double>(bf16_to_f32(a.hi()[i])) + bf16_to_f32(a.mid()[i]) + bf16_to_f32(a.lo()[i]);
    else v[i] = static_cast<double>(a.d()[i / layout.block]) * a.q()[i];
  }
  return v;
}

TEST(Int8Kernels, TwinIsWithinTheActivationQuantizationBoundOfTheDefinition) {
  std::mt19937 rng(77);
  for (DType t : kActTypes) {
    const ActFormat format = reference_table().act_format[static_cast<int>(t)];
    for (int64_t cols : shapes_for(t)) {
      const int64_t rows = 9, n_tokens = 3;
      const Weights w = make_weights(t, rows, cols, rng);
      const ActLayout layout = ActLayout::make(format, cols);
      const auto x = make_activations(n_tokens, cols, rng);
      const Acts act(quantize_all(reference_table(), layout, x, n_tokens));
      std::vector<float> y(static_cast<size_t>(n_tokens * rows));
      reference_table().matmul_act[static_cast<int>(t)](w.tensor, 0, rows, act.data, layout, n_tokens, y.data(), rows);
      std::vector<float> wr(static_cast<size_t>(cols));
      for (int64_t k = 0; k < n_tokens; ++k) {
        const auto xhat = dequantized_activation(layout, act.data + k * layout.bytes);
        // The quantizer's own promise: each value within half a step (d/2); the bf16 split is exact.
        for (int64_t c = 0; c < cols; ++c) {
          const double step = format == ActFormat::kBF16Split
                                  ? 0.0
                                  : 0.5 * ActView{act.data + k * layout.bytes, &layout}.d()[c / layout.block] * (1 + 1e-6);
          ASSERT_LE(std::fabs(xhat[c] - x[k * cols + c]), step + 1e-30) << name_of(t) << " c=" << c;
        }
        for (int64_t r = 0; r < rows; ++r) {
          decode_row_reference(w.tensor, r, 0, cols, wr.data());
          double truth = 0, quant_err = 0, mag = 0;
          for (int64_t c = 0; c < cols; ++c) {
            truth += static_cast<double>(wr[c]) * x[k * cols + c];
            quant_err += std::fabs(static_cast<double>(wr[c])) * std::fabs(xhat[c] - x[k * cols + c]);
            // Types with a min compute scale * q and min apart; each is at
            // most |w| + 2 max|w| of the 32 values around it.
            double group_max = 0;
            for (int64_t i = c / 32 * 32; i < c / 32 * 32 + 32 && i < cols; ++i) group_max = std::max(group_max, std::fabs(static_cast<double>(wr[i])));
            mag += (std::fabs(static_cast<double>(wr[c])) + 2 * group_max) * std::fabs(xhat[c]);
          }
          // f32: per block a product of scales, an fma and the final tree,
          // and the f16/f32 rounding of dequantized weights the truth uses.
          const double f32 = (static_cast<double>(cols) / 16 + 24) * 1.2e-7 * mag;
          ASSERT_NEAR(y[k * rows + r], truth, quant_err + f32 + 1e-30)
              << name_of(t) << " cols=" << cols << " token " << k << " row " << r;
        }
      }
    }
  }
}

}  // namespace
}  // namespace dseek::kernels
