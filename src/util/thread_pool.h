// A fixed set of worker threads that run one parallel loop at a time. The
// calling thread takes part, so a pool of N threads uses N-1 workers.
//
// Decoding calls parallel_for hundreds of times per token, so a loop must
// cost little to hand out and, above all, must never wait for a thread that
// has no work in it:
//  - a loop is published by storing (generation, next index) in one atomic
//    word; threads claim chunks with a compare-and-swap on that word, so a
//    thread that arrives late (descheduled on a busy machine, or asleep)
//    finds the loop taken, or the generation changed, and claims nothing;
//  - the caller returns as soon as every chunk is DONE (a counter of
//    finished items), not when every worker has checked in: on a loaded
//    machine a worker can be off the CPU for milliseconds, and waiting for
//    it at each of hundreds of loops per token would dominate decoding;
//  - idle workers spin briefly on the word (cheap when the next loop comes
//    within microseconds, as inside a forward pass), then sleep on a
//    condition variable (so an idle server uses no CPU).
//
// Matrix products split their output rows over the pool; the loop body gets
// a [begin, end) range and the index of the thread running it, so kernels can
// keep per-thread scratch without locks.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace dseek {

struct ThreadPoolOptions {
  bool pin_threads = false;  // bind thread i to CPU i (the caller is thread 0)
  int spin_microseconds = 200;  // how long an idle worker polls before sleeping
};

class ThreadPool {
 public:
  // body(begin, end, thread_index), borrowed for the duration of one loop
  // (no std::function: a decode step runs hundreds of loops, and wrapping
  // each lambda could allocate).
  class RangeFn {
   public:
    template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, RangeFn>>>
    RangeFn(const F& f)  // NOLINT: implicit, as a lambda is passed straight in
        : object_(&f), call_([](const void* o, int64_t b, int64_t e, int t) { (*static_cast<const F*>(o))(b, e, t); }) {}
    void operator()(int64_t begin, int64_t end, int thread) const { call_(object_, begin, end, thread); }

   private:
    const void* object_;
    void (*call_)(const void*, int64_t, int64_t, int);
  };

  explicit ThreadPool(int n_threads, ThreadPoolOptions options = {});
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Splits [0, n) into chunks of at least `grain` items and runs them on all
  // threads; returns when every chunk is done. Not reentrant: a body must not
  // call parallel_for on the same pool.
  void parallel_for(int64_t n, int64_t grain, RangeFn body);

 private:
  void worker_loop(int thread_index);
  // Claims and runs chunks of loop `generation` until none is left.
  void run_chunks(uint32_t generation, int thread_index);

  int n_threads_;
  ThreadPoolOptions options_;
  std::vector<std::thread> workers_;

  // The loop currently running: its body, size and grain, written before
  // `work_` publishes it (a late reader of a newer loop's values fails its
  // compare-and-swap, which checks the generation).
  std::atomic<const RangeFn*> body_{nullptr};
  std::atomic<int64_t> n_{0};
  std::atomic<int64_t> grain_{1};  // smallest chunk a thread claims
  // generation << 32 | next unclaimed index.
  std::atomic<uint64_t> work_{0};
  std::atomic<int64_t> done_{0};  // items of the current loop finished
  uint32_t generation_ = 0;       // the caller's count of loops
  std::atomic<bool> stopping_{false};

  // Sleeping workers wait here.
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<int> sleepers_{0};
};

// Physical cores of this machine (SMT siblings counted once); at least 1.
int physical_core_count();

}  // namespace dseek
