// One harness for every kernel: each entry of every kernel table this CPU can
// run is compared with the scalar reference on random inputs, with error
// bounds derived from f32 accumulation (n * eps * sum|terms|). The reference
// itself is checked against double-precision arithmetic.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

#include "kernels/kernels.h"
#include "kernels/reference/row_decode.h"
#include "util/numeric_formats.h"

namespace dseek::kernels {
namespace {

// A weight matrix stored in `dtype`, with fp8 block scales when needed.
struct OwnedTensor {
  std::vector<uint8_t> bytes;
  std::vector<float> scales;
  Tensor tensor;
};

OwnedTensor make_weights(DType dtype, int64_t rows, int64_t cols, std::mt19937& rng, int block = 128) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  OwnedTensor t;
  t.tensor.name = "w";
  t.tensor.dtype = dtype;
  t.tensor.rank = 2;
  t.tensor.shape = {rows, cols, 0, 0};
  const int64_t n = rows * cols;
  switch (dtype) {
    case DType::F32:
      t.bytes.resize(static_cast<size_t>(n * 4));
      for (int64_t i = 0; i < n; ++i) {
        float v = normal(rng);
        std::memcpy(&t.bytes[i * 4], &v, 4);
      }
      break;
    case DType::F16:
    case DType::BF16:
      t.bytes.resize(static_cast<size_t>(n * 2));
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h = dtype == DType::F16 ? f32_to_f16(normal(rng)) : f32_to_bf16(normal(rng));
        std::memcpy(&t.bytes[i * 2], &h, 2);
      }
      break;
    case DType::F8_E4M3: {
      t.bytes.resize(static_cast<size_t>(n));
      std::uniform_int_distribution<int> code(0, 255);
      for (auto& b : t.bytes) {
        int c = code(rng);
        if ((c & 0x7f) == 0x7f) c &= 0xfe;  // no NaN codes
        b = static_cast<uint8_t>(c);
      }
      const int64_t sr = (rows + block - 1) / block, sc = (cols + block - 1) / block;
      std::uniform_real_distribution<float> scale(0.001f, 0.01f);
      t.scales.resize(static_cast<size_t>(sr * sc));
      for (auto& s : t.scales) s = scale(rng);
      t.tensor.block_scale = {t.scales.data(), sr, sc, block, block, 0};
      break;
    }
    default:
      ADD_FAILURE();
  }
  t.tensor.data = t.bytes.data();
  t.tensor.n_bytes = static_cast<int64_t>(t.bytes.size());
  return t;
}

std::vector<float> random_vector(int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = normal(rng);
  return v;
}

std::vector<const KernelTable*> tables() { return runnable_tables(); }

TEST(KernelHarness, ReferenceTableComesFirstAndActiveIsRunnable) {
  auto all = tables();
  ASSERT_FALSE(all.empty());
  EXPECT_STREQ(all.front()->name, "reference");
  bool found = false;
  for (auto* t : all) found = found || t == &active_table();
  EXPECT_TRUE(found);
  std::printf("kernel tables on this CPU:");
  for (auto* t : all) std::printf(" %s", t->name);
  std::printf(" (active: %s)\n", active_table().name);
}

class MatmulHarness : public ::testing::TestWithParam<DType> {};

TEST_P(MatmulHarness, EveryTableMatchesReference) {
  const DType dtype = GetParam();
  std::mt19937 rng(1234);
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{1, 1}, {3, 7}, {17, 64}, {33, 200}, {130, 300}, {5, 1031}}) {
    OwnedTensor w = make_weights(dtype, rows, cols, rng);
    for (int64_t n_tokens : {1, 2, 3, 4, 5, 9}) {
      const int64_t ldx = cols + 3, ldy = rows + 2;
      std::vector<float> x = random_vector(n_tokens * ldx, rng);
      // Double-precision truth and the f32 error bound per output.
      std::vector<double> truth(static_cast<size_t>(n_tokens * rows)), bound(truth.size());
      std::vector<float> row(static_cast<size_t>(cols));
      for (int64_t r = 0; r < rows; ++r) {
        decode_row_reference(w.tensor, r, 0, cols, row.data());
        for (int64_t t = 0; t < n_tokens; ++t) {
          double sum = 0, mag = 0;
          for (int64_t c = 0; c < cols; ++c) {
            sum += static_cast<double>(row[c]) * x[t * ldx + c];
            mag += std::fabs(static_cast<double>(row[c]) * x[t * ldx + c]);
          }
          truth[t * rows + r] = sum;
          bound[t * rows + r] = 2.0 * static_cast<double>(cols) * 6e-8 * mag + 1e-30;
        }
      }
      for (const KernelTable* table : tables()) {
        std::vector<float> y(static_cast<size_t>(n_tokens * ldy), -777.0f);
        // Two row ranges, as the thread pool would split them.
        table->matmul[static_cast<int>(dtype)](w.tensor, 0, rows / 2, x.data(), n_tokens, ldx, y.data(), ldy);
        table->matmul[static_cast<int>(dtype)](w.tensor, rows / 2, rows, x.data(), n_tokens, ldx, y.data(), ldy);
        for (int64_t t = 0; t < n_tokens; ++t) {
          for (int64_t r = 0; r < rows; ++r)
            ASSERT_NEAR(y[t * ldy + r], truth[t * rows + r], bound[t * rows + r])
                << table->name << " " << dtype_info(dtype).name << " rows=" << rows << " cols=" << cols << " t=" << t;
          for (int64_t r = rows; r < ldy; ++r) ASSERT_EQ(y[t * ldy + r], -777.0f) << "wrote outside its rows";
        }
      }
    }
  }
}

TEST_P(MatmulHarness, TransposedEveryTableMatchesReference) {
  const DType dtype = GetParam();
  std::mt19937 rng(99);
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{1, 1}, {7, 9}, {32, 64}, {40, 136}, {150, 260}}) {
    OwnedTensor w = make_weights(dtype, rows, cols, rng);
    for (int64_t n_tokens : {1, 3, 4}) {
      const int64_t ldx = rows + 1, ldy = cols + 5;
      std::vector<float> x = random_vector(n_tokens * ldx, rng);
      std::vector<double> truth(static_cast<size_t>(n_tokens * cols), 0.0), bound(truth.size(), 1e-30);
      std::vector<float> row(static_cast<size_t>(cols));
      for (int64_t r = 0; r < rows; ++r) {
        decode_row_reference(w.tensor, r, 0, cols, row.data());
        for (int64_t t = 0; t < n_tokens; ++t)
          for (int64_t c = 0; c < cols; ++c) {
            truth[t * cols + c] += static_cast<double>(row[c]) * x[t * ldx + r];
            bound[t * cols + c] += 2.0 * static_cast<double>(rows) * 6e-8 * std::fabs(static_cast<double>(row[c]) * x[t * ldx + r]);
          }
      }
      for (const KernelTable* table : tables()) {
        std::vector<float> y(static_cast<size_t>(n_tokens * ldy), -777.0f);
        const int64_t split = (cols / 2) / 8 * 8;  // column ranges as ops.cpp splits them
        table->matmul_transposed[static_cast<int>(dtype)](w.tensor, 0, split, x.data(), n_tokens, ldx, y.data(), ldy);
        table->matmul_transposed[static_cast<int>(dtype)](w.tensor, split, cols, x.data(), n_tokens, ldx, y.data(), ldy);
        for (int64_t t = 0; t < n_tokens; ++t) {
          for (int64_t c = 0; c < cols; ++c)
            ASSERT_NEAR(y[t * ldy + c], truth[t * cols + c], bound[t * cols + c])
                << table->name << " " << dtype_info(dtype).name << " rows=" << rows << " cols=" << cols;
          for (int64_t c = cols; c < ldy; ++c) ASSERT_EQ(y[t * ldy + c], -777.0f);
        }
      }
    }
  }
}

TEST(KernelHarness, Fp8RowViewsKeepTheirBlockScales) {
  std::mt19937 rng(5);
  OwnedTensor w = make_weights(DType::F8_E4M3, 300, 140, rng);
  Tensor view = w.tensor.row_range(130, 260);  // crosses a 128-row block boundary
  std::vector<float> full(140), part(140);
  for (int64_t r = 0; r < view.rows(); ++r) {
    decode_row_reference(w.tensor, 130 + r, 0, 140, full.data());
    decode_row_reference(view, r, 0, 140, part.data());
    ASSERT_EQ(full, part) << r;
  }
}

std::string dtype_name(const ::testing::TestParamInfo<DType>& info) {
  return std::string(dtype_info(info.param).name);
}

INSTANTIATE_TEST_SUITE_P(AllDtypes, MatmulHarness,
                         ::testing::Values(DType::F32, DType::F16, DType::BF16, DType::F8_E4M3), dtype_name);

TEST(KernelHarness, AttentionEveryTableMatchesReference) {
  std::mt19937 rng(7);
  struct Shape {
    int64_t heads, kv_heads, dk, dv, n_keys, n_tokens;
  };
  for (Shape s : {Shape{4, 4, 24, 16, 9, 3}, Shape{8, 2, 16, 16, 40, 5}, Shape{4, 1, 72, 64, 33, 33}, Shape{2, 1, 5, 3, 1, 1}}) {
    std::vector<float> q = random_vector(s.n_tokens * s.heads * s.dk, rng);
    std::vector<float> k = random_vector(s.n_keys * s.kv_heads * s.dk, rng);
    std::vector<float> v = random_vector(s.n_keys * s.kv_heads * s.dv, rng);
    std::vector<int64_t> pos(static_cast<size_t>(s.n_tokens));
    for (int64_t t = 0; t < s.n_tokens; ++t) pos[t] = s.n_keys - s.n_tokens + t;
    AttentionArgs a;
    a.n_tokens = s.n_tokens;
    a.n_heads = s.heads;
    a.n_kv_heads = s.kv_heads;
    a.head_dim_k = s.dk;
    a.head_dim_v = s.dv;
    a.q = q.data();
    a.q_token_stride = s.heads * s.dk;
    a.q_head_stride = s.dk;
    a.k = k.data();
    a.k_token_stride = s.kv_heads * s.dk;
    a.k_head_stride = s.dk;
    a.v = v.data();
    a.v_token_stride = s.kv_heads * s.dv;
    a.v_head_stride = s.dv;
    a.n_keys = s.n_keys;
    a.q_pos = pos.data();
    a.scale = 0.3f;
    a.out_token_stride = s.heads * s.dv;
    a.out_head_stride = s.dv;
    // Double-precision truth.
    std::vector<double> truth(static_cast<size_t>(s.n_tokens * s.heads * s.dv), 0.0);
    for (int64_t t = 0; t < s.n_tokens; ++t)
      for (int64_t h = 0; h < s.heads; ++h) {
        const int64_t kvh = h / (s.heads / s.kv_heads);
        std::vector<double> p(static_cast<size_t>(pos[t] + 1));
        double mx = -1e300, total = 0;
        for (int64_t j = 0; j <= pos[t]; ++j) {
          double d = 0;
          for (int64_t i = 0; i < s.dk; ++i) d += static_cast<double>(q[(t * s.heads + h) * s.dk + i]) * k[(j * s.kv_heads + kvh) * s.dk + i];
          p[j] = d * 0.3;
          mx = std::max(mx, p[j]);
        }
        for (auto& x : p) total += (x = std::exp(x - mx));
        for (int64_t j = 0; j <= pos[t]; ++j)
          for (int64_t i = 0; i < s.dv; ++i) truth[(t * s.heads + h) * s.dv + i] += p[j] / total * v[(j * s.kv_heads + kvh) * s.dv + i];
      }
    for (const KernelTable* table : tables()) {
      std::vector<float> out(truth.size(), -1.0f);
      a.out = out.data();
      table->attention(a, 0, s.n_tokens * s.heads);
      for (size_t i = 0; i < out.size(); ++i) ASSERT_NEAR(out[i], truth[i], 2e-5) << table->name << " element " << i;
    }
  }
}

TEST(KernelHarness, ElementwiseEveryTableMatchesReference) {
  std::mt19937 rng(11);
  for (int64_t n : {1, 7, 64, 1000}) {
    std::vector<float> x = random_vector(n, rng), w = random_vector(n, rng), g = random_vector(n, rng);
    double ss = 0;
    for (float v : x) ss += static_cast<double>(v) * v;
    const double inv = 1.0 / std::sqrt(ss / static_cast<double>(n) + 1e-6);
    double mx = -1e300, total = 0;
    for (float v : x) mx = std::max(mx, static_cast<double>(v));
    for (float v : x) total += std::exp(v - mx);
    for (const KernelTable* table : tables()) {
      std::vector<float> out(static_cast<size_t>(n));
      table->rmsnorm(x.data(), w.data(), n, 1e-6f, out.data());
      for (int64_t i = 0; i < n; ++i) ASSERT_NEAR(out[i], x[i] * inv * w[i], 1e-5 * (1 + std::fabs(x[i] * inv * w[i]))) << table->name;
      std::vector<float> sm = x;
      table->softmax(sm.data(), n);
      for (int64_t i = 0; i < n; ++i) ASSERT_NEAR(sm[i], std::exp(x[i] - mx) / total, 1e-6) << table->name;
      table->silu_mul(g.data(), x.data(), n, out.data());
      for (int64_t i = 0; i < n; ++i)
        ASSERT_NEAR(out[i], g[i] / (1 + std::exp(-static_cast<double>(g[i]))) * x[i], 1e-5 * (1 + std::fabs(g[i] * x[i]))) << table->name;
    }
  }
  // RoPE: both pairings rotate by the given angles.
  std::vector<float> cos = {std::cos(0.5f), std::cos(1.5f)}, sin = {std::sin(0.5f), std::sin(1.5f)};
  for (const KernelTable* table : tables()) {
    std::vector<float> inter = {1, 2, 3, 4}, half = {1, 2, 3, 4};
    table->rope(inter.data(), 2, cos.data(), sin.data(), RopeStyle::kInterleaved);
    table->rope(half.data(), 2, cos.data(), sin.data(), RopeStyle::kHalfSplit);
    EXPECT_NEAR(inter[0], 1 * cos[0] - 2 * sin[0], 1e-6);
    EXPECT_NEAR(inter[1], 1 * sin[0] + 2 * cos[0], 1e-6);
    EXPECT_NEAR(inter[3], 3 * sin[1] + 4 * cos[1], 1e-6);
    EXPECT_NEAR(half[0], 1 * cos[0] - 3 * sin[0], 1e-6);
    EXPECT_NEAR(half[2], 1 * sin[0] + 3 * cos[0], 1e-6);
    EXPECT_NEAR(half[3], 2 * sin[1] + 4 * cos[1], 1e-6);
  }
}

TEST(KernelHarness, TopKEveryTableMatchesASortedReference) {
  std::mt19937 rng(3);
  for (int64_t n : {1, 5, 64, 257}) {
    std::vector<float> x = random_vector(n, rng);
    if (n > 4) x[3] = x[1];                      // a tie: the lower index first
    if (n > 6) x[5] = -INFINITY;                 // excluded experts
    std::vector<int32_t> order(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) order[i] = static_cast<int32_t>(i);
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return x[a] > x[b]; });
    for (int64_t k : {int64_t{1}, std::min<int64_t>(n, 4), n}) {
      for (const KernelTable* table : tables()) {
        std::vector<int32_t> out(static_cast<size_t>(k), -1);
        table->topk(x.data(), n, k, out.data());
        for (int64_t i = 0; i < k; ++i) ASSERT_EQ(out[i], order[i]) << table->name << " n=" << n << " k=" << k << " i=" << i;
      }
    }
  }
}

TEST(NumericFormats, ConversionsMatchTheirDefinitions) {
  // fp8 e4m3fn: exact table values.
  EXPECT_EQ(fp8_e4m3_to_f32(0x00), 0.0f);
  EXPECT_EQ(fp8_e4m3_to_f32(0x38), 1.0f);
  EXPECT_EQ(fp8_e4m3_to_f32(0x7e), 448.0f);
  EXPECT_EQ(fp8_e4m3_to_f32(0xfe), -448.0f);
  EXPECT_EQ(fp8_e4m3_to_f32(0x01), std::ldexp(1.0f, -9));
  EXPECT_TRUE(std::isnan(fp8_e4m3_to_f32(0x7f)));
  // bf16 / f16 round trips and rounding.
  EXPECT_EQ(bf16_to_f32(f32_to_bf16(1.0f)), 1.0f);
  EXPECT_EQ(f32_to_bf16(1.00390625f), 0x3f80);  // tie to even
  EXPECT_EQ(f16_to_f32(f32_to_f16(65504.0f)), 65504.0f);
  EXPECT_TRUE(std::isinf(f16_to_f32(f32_to_f16(70000.0f))));
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));
  for (uint32_t h = 0; h < 0x7c00; ++h) ASSERT_EQ(f32_to_f16(f16_to_f32(static_cast<uint16_t>(h))), h) << h;
}

}  // namespace
}  // namespace dseek::kernels
