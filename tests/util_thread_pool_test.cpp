// The thread pool runs every index exactly once, loop after loop, whether its
// workers are spinning or asleep, pinned or not.
#include "util/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace dseek {
namespace {

void expect_each_index_once(ThreadPool& pool, int64_t n, int64_t grain) {
  std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
  std::atomic<int> max_thread{0};
  pool.parallel_for(n, grain, [&](int64_t begin, int64_t end, int thread) {
    for (int64_t i = begin; i < end; ++i) hits[i]++;
    int seen = max_thread.load();
    while (thread > seen && !max_thread.compare_exchange_weak(seen, thread)) {}
  });
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "index " << i << " of " << n;
  EXPECT_LT(max_thread.load(), pool.size());
}

TEST(ThreadPool, EveryIndexOnceAcrossManyLoops) {
  ThreadPool pool(4);
  for (int round = 0; round < 2000; ++round) expect_each_index_once(pool, 1 + round % 97, 1 + round % 5);
}

TEST(ThreadPool, WakesSleepingWorkers) {
  ThreadPoolOptions options;
  options.spin_microseconds = 1;  // workers go to sleep almost at once
  ThreadPool pool(3, options);
  for (int round = 0; round < 20; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    expect_each_index_once(pool, 1000, 1);
  }
}

TEST(ThreadPool, PinnedAndSingleThreaded) {
  ThreadPoolOptions options;
  options.pin_threads = true;
  ThreadPool pinned(2, options);
  expect_each_index_once(pinned, 500, 3);
  ThreadPool single(1);
  expect_each_index_once(single, 500, 3);
}

}  // namespace
}  // namespace dseek
