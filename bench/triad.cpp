// Memory bandwidth the STREAM way: the triad a[i] = b[i] + s * c[i] on
// arrays of doubles far larger than the caches, split over -t threads (each
// thread first touches its own part), best of -r runs, counting 24 bytes per
// element as STREAM does (read b, read c, write a). Also a read-only sum,
// closer to what decoding does (weights are only read).
//
//   dseek_triad [-t 2] [-r 10] [--mib 512] [--json]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

namespace {

using Clock = std::chrono::steady_clock;

template <class F>
double timed_parallel(int threads, F&& body) {
  std::vector<std::thread> pool;
  const auto t0 = Clock::now();
  for (int t = 0; t < threads; ++t) pool.emplace_back([&, t] { body(t); });
  for (auto& th : pool) th.join();
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"STREAM-like memory bandwidth"};
  int threads = 2, repetitions = 10;
  int64_t mib = 512;
  bool json = false;
  app.add_option("-t,--threads", threads);
  app.add_option("-r,--repetitions", repetitions);
  app.add_option("--mib", mib, "size of each of the three arrays");
  app.add_flag("--json", json);
  CLI11_PARSE(app, argc, argv);
  const int64_t n = mib * (int64_t{1} << 20) / 8;
  double* a = new double[n];
  double* b = new double[n];
  double* c = new double[n];
  auto part = [&](int t, int64_t& begin, int64_t& end) {
    begin = n * t / threads;
    end = n * (t + 1) / threads;
  };
  timed_parallel(threads, [&](int t) {
    int64_t lo, hi;
    part(t, lo, hi);
    for (int64_t i = lo; i < hi; ++i) a[i] = 0.0, b[i] = 1.0, c[i] = 2.0;
  });
  double best_triad = 0, best_read = 0;
  std::vector<double> sums(static_cast<size_t>(threads));
  for (int r = 0; r < repetitions; ++r) {
    const double s = timed_parallel(threads, [&](int t) {
      int64_t lo, hi;
      part(t, lo, hi);
      for (int64_t i = lo; i < hi; ++i) a[i] = b[i] + 3.0 * c[i];
    });
    best_triad = std::max(best_triad, 24.0 * static_cast<double>(n) / s / 1e9);
    const double s2 = timed_parallel(threads, [&](int t) {
      int64_t lo, hi;
      part(t, lo, hi);
      double s0 = 0, s1 = 0, s2_ = 0, s3 = 0;
      for (int64_t i = lo; i + 3 < hi; i += 4) s0 += a[i], s1 += a[i + 1], s2_ += a[i + 2], s3 += a[i + 3];
      sums[t] = s0 + s1 + s2_ + s3;
    });
    best_read = std::max(best_read, 8.0 * static_cast<double>(n) / s2 / 1e9);
  }
  if (json) std::printf("{\"threads\": %d, \"triad_gbs\": %.2f, \"read_gbs\": %.2f, \"check\": %g}\n", threads, best_triad, best_read, sums[0]);
  else std::printf("threads %d: triad %.2f GB/s, read %.2f GB/s (best of %d)\n", threads, best_triad, best_read, repetitions);
  delete[] a;
  delete[] b;
  delete[] c;
  return 0;
}
