// A fixed set of worker threads that run one parallel loop at a time. The
// calling thread takes part, so a pool of N threads uses N-1 workers.
//
// Decoding calls parallel_for hundreds of times per token, so waking the
// workers must cost little: after a loop, workers spin briefly on an atomic
// generation counter (cheap when the next loop comes within microseconds, as
// it does inside a forward pass) and only then sleep on a condition variable
// (so an idle server uses no CPU).
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

struct ThreadPoolOptions {
  bool pin_threads = false;  // bind thread i to CPU i (the caller is thread 0)
  int spin_microseconds = 200;  // how long an idle worker polls before sleeping
};

class ThreadPool {
 public:
  // body(begin, end, thread_index)
  using RangeFn = std::function<void(int64_t, int64_t, int)>;

  explicit ThreadPool(int n_threads, ThreadPoolOptions options = {});
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
  ThreadPoolOptions options_;
  std::vector<std::thread> workers_;

  // The loop currently running (published by generation_).
  const RangeFn* body_ = nullptr;
  int64_t n_ = 0;
  int64_t chunk_ = 1;
  std::atomic<int64_t> next_{0};
  std::atomic<int> unfinished_{0};  // workers still in the current loop
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stopping_{false};

  // Sleeping workers wait here.
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<int> sleepers_{0};
};

// Physical cores of this machine (SMT siblings counted once); at least 1.
int physical_core_count();

}  // namespace dseek
