// Read bandwidth of this machine (GB/s): sums a buffer much larger than the
// caches with several threads, best of a few passes. The serving benchmark
// divides it by the bytes one decode step must read to get its bound.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const size_t n = size_t{1} << 28;  // 2 GiB of uint64
  std::vector<unsigned long long> data(n, 1);
  double best = 0;
  for (int pass = 0; pass < 4; ++pass) {
    std::vector<unsigned long long> sums(static_cast<size_t>(threads));
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        unsigned long long s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        const size_t begin = n / threads * t, end = n / threads * (t + 1);
        for (size_t i = begin; i < end; i += 4) {
          s0 += data[i];
          s1 += data[i + 1];
          s2 += data[i + 2];
          s3 += data[i + 3];
        }
        sums[t] = s0 + s1 + s2 + s3;
      });
    for (auto& th : pool) th.join();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    unsigned long long total = 0;
    for (auto v : sums) total += v;
    if (total != n) return 1;
    best = std::max(best, n * 8.0 / s / 1e9);
  }
  std::printf("%.2f\n", best);
  return 0;
}
