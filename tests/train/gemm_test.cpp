// The training products: every table this CPU runs against the scalar
// reference (all four transpose combinations, edges that are not multiples
// of the micro-tile, accumulation, strided operands), and the reference
// against double precision.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "train/gemm.h"

namespace dseek::train {
namespace {

struct Case {
  Trans ta, tb;
  int64_t m, n, k;
  bool accumulate;
};

std::vector<float> random_matrix(size_t n, std::mt19937& rng) {
  std::normal_distribution<float> normal;
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

TEST(TrainGemm, EveryTableMatchesTheReference) {
  std::mt19937 rng(3);
  const std::vector<Case> cases = {
      {Trans::kNo, Trans::kYes, 37, 50, 29, false}, {Trans::kNo, Trans::kNo, 13, 17, 300, false},
      {Trans::kYes, Trans::kNo, 40, 33, 70, true},  {Trans::kYes, Trans::kYes, 7, 130, 9, true},
      {Trans::kNo, Trans::kYes, 1, 1, 1, false},    {Trans::kNo, Trans::kYes, 300, 270, 520, false},
      {Trans::kNo, Trans::kNo, 5, 4, 0, false},
  };
  for (const Case& c : cases) {
    // Leading dimensions wider than the matrices: the kernels must use them.
    const int64_t a_rows = c.ta == Trans::kNo ? c.m : c.k, a_cols = c.ta == Trans::kNo ? c.k : c.m;
    const int64_t b_rows = c.tb == Trans::kNo ? c.k : c.n, b_cols = c.tb == Trans::kNo ? c.n : c.k;
    const int64_t lda = a_cols + 3, ldb = b_cols + 5, ldc = c.n + 2;
    auto a = random_matrix(static_cast<size_t>(std::max<int64_t>(1, a_rows * lda)), rng);
    auto b = random_matrix(static_cast<size_t>(std::max<int64_t>(1, b_rows * ldb)), rng);
    auto c0 = random_matrix(static_cast<size_t>(c.m * ldc), rng);
    // double-precision truth and the bound n * eps * sum |a b| per element
    std::vector<double> truth(c0.size()), bound(c0.size());
    for (int64_t i = 0; i < c.m; ++i)
      for (int64_t j = 0; j < c.n; ++j) {
        double s = 0.0, mag = 0.0;
        for (int64_t p = 0; p < c.k; ++p) {
          const double x = c.ta == Trans::kNo ? a[i * lda + p] : a[p * lda + i];
          const double y = c.tb == Trans::kNo ? b[p * ldb + j] : b[j * ldb + p];
          s += x * y;
          mag += std::fabs(x * y);
        }
        truth[i * ldc + j] = s + (c.accumulate ? c0[i * ldc + j] : 0.0);
        bound[i * ldc + j] = (c.k + 2) * 6e-8 * (mag + std::fabs(c0[i * ldc + j])) + 1e-30;
      }
    for (const GemmTable* table : gemm_runnable_tables()) {
      for (int threads : {1, 2}) {
        ThreadPool pool(threads);
        auto out = c0;
        GemmArgs g{c.ta, c.tb, c.m, c.n, c.k, a.data(), lda, b.data(), ldb, out.data(), ldc, c.accumulate};
        if (threads == 1) table->gemm(g, 0, c.m, 0, c.n);
        else pool.parallel_for(2, 1, [&](int64_t begin, int64_t end, int) {
          for (int64_t half = begin; half < end; ++half)
            table->gemm(g, half * c.m / 2, (half + 1) * c.m / 2, 0, c.n);
        });
        for (int64_t i = 0; i < c.m; ++i) {
          for (int64_t j = 0; j < c.n; ++j)
            ASSERT_LE(std::fabs(out[i * ldc + j] - truth[i * ldc + j]), bound[i * ldc + j])
                << table->name << " m=" << c.m << " n=" << c.n << " k=" << c.k << " at " << i << "," << j;
          // Padding columns between rows are left alone.
          for (int64_t j = c.n; j < ldc; ++j) ASSERT_EQ(out[i * ldc + j], c0[i * ldc + j]);
        }
      }
    }
  }
}

TEST(TrainGemm, ResultsDoNotDependOnTheSplit) {
  std::mt19937 rng(4);
  const int64_t m = 131, n = 97, k = 600;
  auto a = random_matrix(m * k, rng), b = random_matrix(n * k, rng);
  std::vector<float> whole(m * n), split(m * n);
  const GemmTable& t = gemm_active_table();
  GemmArgs g{Trans::kNo, Trans::kYes, m, n, k, a.data(), k, b.data(), k, whole.data(), n, false};
  t.gemm(g, 0, m, 0, n);
  g.c = split.data();
  for (int64_t r = 0; r < m; r += 7)
    for (int64_t c = 0; c < n; c += 20) t.gemm(g, r, std::min(m, r + 7), c, std::min(n, c + 20));
  EXPECT_EQ(whole, split);
  ThreadPool pool(2);
  std::vector<float> pooled(m * n);
  g.c = pooled.data();
  gemm(pool, g);
  EXPECT_EQ(whole, pooled);
}

}  // namespace
}  // namespace dseek::train
