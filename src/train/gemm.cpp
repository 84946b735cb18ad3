#include "train/gemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "kernels/cpu_features.h"

namespace dseek::train {

void gemm_reference(const GemmArgs& g, int64_t r0, int64_t r1, int64_t c0, int64_t c1);
namespace avx2 {
void fill_gemm_table(GemmTable& table);
}
namespace avx512 {
void fill_gemm_table(GemmTable& table);
}

namespace {

struct Tables {
  GemmTable reference{"reference", gemm_reference};
  GemmTable avx2, avx512;
  bool avx2_runnable = false, avx512_runnable = false;
  Tables() {
    const CpuFeatures& cpu = cpu_features();
    avx2_runnable = cpu.avx2 && cpu.fma;
    avx512_runnable = avx2_runnable && cpu.avx512f;
    avx2::fill_gemm_table(avx2);
    avx512::fill_gemm_table(avx512);
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

const GemmTable& gemm_reference_table() { return tables().reference; }

std::vector<const GemmTable*> gemm_runnable_tables() {
  std::vector<const GemmTable*> out{&tables().reference};
  if (tables().avx2_runnable) out.push_back(&tables().avx2);
  if (tables().avx512_runnable) out.push_back(&tables().avx512);
  return out;
}

const GemmTable& gemm_active_table() {
  // DSEEK_KERNELS names a table (reference, avx2, avx512) for these as for
  // the inference kernels; otherwise the most capable one runs.
  static const GemmTable* chosen = [] {
    auto runnable = gemm_runnable_tables();
    if (const char* forced = std::getenv("DSEEK_KERNELS"))
      for (const GemmTable* t : runnable)
        if (std::strcmp(t->name, forced) == 0) return t;
    return runnable.back();
  }();
  return *chosen;
}

void gemm_serial(const GemmArgs& args) { gemm_active_table().gemm(args, 0, args.m, 0, args.n); }

void gemm(ThreadPool& pool, const GemmArgs& g) {
  const GemmFn fn = gemm_active_table().gemm;
  const int threads = pool.size();
  const double flops = 2.0 * static_cast<double>(g.m) * static_cast<double>(g.n) * static_cast<double>(g.k);
  if (threads == 1 || flops < 2e5) {
    fn(g, 0, g.m, 0, g.n);
    return;
  }
  // A grid of blocks, rows in multiples of 6 and columns of 16 (the
  // micro-kernel's tile), a few per thread; split the longer side first.
  const int64_t want = 4 * threads;
  int64_t row_blocks = std::clamp<int64_t>(g.m / 48, 1, want);
  int64_t col_blocks = std::clamp<int64_t>((want + row_blocks - 1) / row_blocks, 1, std::max<int64_t>(1, g.n / 64));
  auto round_up = [](int64_t v, int64_t to) { return (v + to - 1) / to * to; };
  const int64_t row_step = round_up((g.m + row_blocks - 1) / row_blocks, 6);
  const int64_t col_step = round_up((g.n + col_blocks - 1) / col_blocks, 16);
  row_blocks = (g.m + row_step - 1) / row_step;
  col_blocks = (g.n + col_step - 1) / col_step;
  pool.parallel_for(row_blocks * col_blocks, 1, [&](int64_t begin, int64_t end, int) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t r = t / col_blocks, c = t % col_blocks;
      fn(g, r * row_step, std::min(g.m, (r + 1) * row_step), c * col_step, std::min(g.n, (c + 1) * col_step));
    }
  });
}

void linear_forward(ThreadPool& pool, const float* x, int64_t n, int64_t in, const float* w, int64_t out, float* y,
                    bool accumulate) {
  gemm(pool, {Trans::kNo, Trans::kYes, n, out, in, x, in, w, in, y, out, accumulate});
}

void linear_backward_input(ThreadPool& pool, const float* dy, int64_t n, int64_t out, const float* w, int64_t in,
                           float* dx, bool accumulate) {
  gemm(pool, {Trans::kNo, Trans::kNo, n, in, out, dy, out, w, in, dx, in, accumulate});
}

void linear_backward_weight(ThreadPool& pool, const float* dy, int64_t n, int64_t out, const float* x, int64_t in,
                            float* dw) {
  gemm(pool, {Trans::kYes, Trans::kNo, out, in, n, dy, out, x, in, dw, in, true});
}

}  // namespace dseek::train
