// A fixed set of worker threads that run one parallel loop at a time. The
// calling thread takes part, so a pool of N threads uses N-1 workers.
//
// Matrix products split their output rows over the pool; the loop body gets
// a [begin, end) range and the index of the thread running it, so kernels can
// keep per-thread scratch without locks.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dseek {

class ThreadPool {
 public:
  // body(begin, end, thread_index)
  using RangeFn = std::function<void(int64_t, int64_t, int)>;

  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Splits [0, n) into chunks of at least `grain` items and runs them on all
  // threads; returns when every chunk is done. Not reentrant: a body must not
  // call parallel_for on the same pool.
  void parallel_for(int64_t n, int64_t grain, const RangeFn& body);

 private:
  void worker_loop(int thread_index);
  void run_chunks(int thread_index);

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  uint64_t generation_ = 0;
  bool stopping_ = false;
  int busy_workers_ = 0;

  // The loop currently running.
  const RangeFn* body_ = nullptr;
  int64_t n_ = 0;
  int64_t chunk_ = 1;
  std::atomic<int64_t> next_{0};
};

// Physical cores of this machine (SMT siblings counted once); at least 1.
int physical_core_count();

}  // namespace dseek
