// Kernel throughput, outside any model: for each weight type, a matrix of
// V2-Lite's expert shape (rows x cols) times 1 token (matrix-vector: GB/s of
// weights streamed, from a matrix larger than the caches) and times a batch
// (matrix-matrix: GMAC/s), through ops::matmul on the active kernel table
// (DSEEK_KERNELS picks another), on -t threads.
//
//   dseek_kernel_bench [-t 2] [--types q4_0,q8_0] [--tokens 1,64,512] [--packed]
// (--packed: each matrix with the table's packed copy, as a server loads
// the weights every token reads: ops::pack_for_batches.)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <sstream>
#include <string>
#include <memory>
#include <vector>

#include <CLI/CLI.hpp>

#include "kernels/kernels.h"
#include "kernels/ops.h"
#include "quant/quant.h"
#include "util/thread_pool.h"

namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) out.push_back(item);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kernel throughput"};
  int threads = 2;
  std::string types = "q4_0,q8_0,q4_k,q6_k,bf16,f32", tokens = "1,64,512";
  int64_t rows = 1408, cols = 2048;
  double seconds = 1.0;
  int64_t stream_mib = 512;
  bool packed = false;
  app.add_option("-t,--threads", threads);
  app.add_option("--types", types);
  app.add_option("--tokens", tokens);
  app.add_option("--rows", rows);
  app.add_option("--cols", cols);
  app.add_option("--seconds", seconds, "per measurement");
  app.add_option("--stream-mib", stream_mib, "copies of the matrix to stream through (0: one, cache-resident)");
  app.add_flag("--packed", packed, "give each matrix the kernel table's packed copy for batches");
  CLI11_PARSE(app, argc, argv);
  dseek::ThreadPool pool(threads);
  std::printf("kernels: %s, %d threads, matrix %lld x %lld\n", dseek::kernels::active_table().name, threads,
              static_cast<long long>(rows), static_cast<long long>(cols));
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> src(static_cast<size_t>(cols));
  for (const std::string& name : split(types)) {
    auto dtype = dseek::dtype_from_name(name);
    if (!dtype || !dseek::row_bytes(*dtype, cols)) {
      std::fprintf(stderr, "skipping %s\n", name.c_str());
      continue;
    }
    const int64_t rb = *dseek::row_bytes(*dtype, cols);
    // Enough copies of the matrix that streaming them misses every cache.
    const int64_t copies = std::max<int64_t>(1, (stream_mib << 20) / (rows * rb));
    std::vector<uint8_t> bytes(static_cast<size_t>(copies * rows * rb));
    for (int64_t r = 0; r < rows; ++r) {
      for (float& v : src) v = normal(rng) * 0.02f;
      dseek::quant::quantize(*dtype, src.data(), bytes.data() + r * rb, cols);
    }
    for (int64_t c = 1; c < copies; ++c) std::memcpy(bytes.data() + c * rows * rb, bytes.data(), static_cast<size_t>(rows * rb));
    std::vector<dseek::Tensor> mats(static_cast<size_t>(copies));
    std::vector<std::unique_ptr<dseek::kernels::PackedWeights>> packs;
    for (int64_t c = 0; c < copies; ++c) {
      dseek::Tensor& t = mats[c];
      t.name = "w";
      t.dtype = *dtype;
      t.rank = 2;
      t.shape = {rows, cols, 0, 0};
      t.data = bytes.data() + c * rows * rb;
      t.n_bytes = rows * rb;
      if (packed) {
        packs.push_back(dseek::ops::pack_for_batches(t));
        t.packed = packs.back().get();
      }
    }
    for (const std::string& tok : split(tokens)) {
      const int64_t n = std::stoll(tok);
      std::vector<float> x(static_cast<size_t>(n * cols)), y(static_cast<size_t>(n * rows));
      for (float& v : x) v = normal(rng);
      int64_t calls = 0;
      const auto t0 = Clock::now();
      double elapsed = 0;
      while (elapsed < seconds) {
        dseek::ops::matmul(pool, mats[calls % copies], x.data(), n, y.data());
        ++calls;
        elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
      }
      const double per_call = elapsed / static_cast<double>(calls);
      std::printf("%-5s tokens %4lld: %8.1f us/call  %7.2f GB/s of weights  %8.1f GMAC/s\n", name.c_str(),
                  static_cast<long long>(n), per_call * 1e6, static_cast<double>(rows * rb) / per_call / 1e9,
                  static_cast<double>(rows * cols * n) / per_call / 1e9);
    }
  }
  return 0;
}
