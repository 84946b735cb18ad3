#include "util/thread_pool.h"

#include "util/result.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <set>
#include <string>

namespace dseek {

namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

void pin_to_cpu(int cpu) {
  const int n_cpus = static_cast<int>(std::thread::hardware_concurrency());
  if (n_cpus <= 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu % n_cpus, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);  // best effort
}

}  // namespace

ThreadPool::ThreadPool(int n_threads, ThreadPoolOptions options)
    : n_threads_(std::max(1, n_threads)), options_(options) {
  if (options_.pin_threads) pin_to_cpu(0);
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    n_.store(0, std::memory_order_relaxed);
    work_.store(static_cast<uint64_t>(++generation_) << 32);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_chunks(uint32_t generation, int thread_index) {
  uint64_t word = work_.load(std::memory_order_acquire);
  for (;;) {
    if (static_cast<uint32_t>(word >> 32) != generation) return;
    const int64_t begin = static_cast<int64_t>(word & 0xffffffffu);
    // Read after the word: this loop's values, or a newer loop's (then the
    // exchange below fails).
    const RangeFn* body = body_.load(std::memory_order_relaxed);
    const int64_t n = n_.load(std::memory_order_relaxed);
    if (begin >= n) return;
    // Guided: a share of what is left, so the last chunks are small and no
    // thread waits long at the end for another's big one.
    const int64_t share = (n - begin) / (2 * n_threads_);
    const int64_t end = std::min(n, begin + std::max(grain_.load(std::memory_order_relaxed), share));
    const uint64_t claimed = (static_cast<uint64_t>(generation) << 32) | static_cast<uint64_t>(end);
    if (!work_.compare_exchange_weak(word, claimed, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
    (*body)(begin, end, thread_index);
    done_.fetch_add(end - begin, std::memory_order_release);
    word = claimed;
  }
}

void ThreadPool::parallel_for(int64_t n, int64_t grain, RangeFn body) {
  if (n <= 0) return;
  DSEEK_CHECK(n < 0xffffffff);  // indices share a word with the generation
  grain = std::max<int64_t>(1, grain);
  if (n_threads_ == 1 || n <= grain) {
    body(0, n, 0);
    return;
  }
  body_.store(&body, std::memory_order_relaxed);
  n_.store(n, std::memory_order_relaxed);
  grain_.store(grain, std::memory_order_relaxed);
  done_.store(0, std::memory_order_relaxed);
  const uint32_t generation = ++generation_;
  // Sequentially consistent: this store and the sleeper count below, and a
  // worker's increment of sleepers_ and its check of work_, are a
  // store-then-load pair on each side; at least one side sees the other.
  work_.store(static_cast<uint64_t>(generation) << 32);  // publishes the loop
  if (sleepers_.load() > 0) {
    std::lock_guard<std::mutex> lock(mutex_);  // pairs with the sleeper's check
    wake_.notify_all();
  }
  run_chunks(generation, 0);
  // Only chunks other threads claimed and are still running can be left;
  // yield now and then in case one of them needs this core.
  for (int i = 1; done_.load(std::memory_order_acquire) < n; ++i) {
    cpu_relax();
    if ((i & 63) == 0) std::this_thread::yield();
  }
  // Close the loop: the word still reads (generation, n), and a thread that
  // loaded it earlier and then reads the NEXT loop's (larger) n while it is
  // being set up would otherwise claim [n, ...) of that loop under this
  // generation. No index is >= the closed marker.
  work_.store((static_cast<uint64_t>(generation) << 32) | 0xffffffffu, std::memory_order_release);
  body_.store(nullptr, std::memory_order_relaxed);
}

void ThreadPool::worker_loop(int thread_index) {
  if (options_.pin_threads) pin_to_cpu(thread_index);
  uint32_t seen = 0;
  auto generation_now = [this] { return static_cast<uint32_t>(work_.load(std::memory_order_acquire) >> 32); };
  for (;;) {
    // Poll for the next loop for a short while, then sleep.
    const auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(options_.spin_microseconds);
    uint32_t current = generation_now();
    for (int i = 1; current == seen; ++i) {
      cpu_relax();
      if ((i & 63) == 0) std::this_thread::yield();
      if ((i & 255) == 0 && std::chrono::steady_clock::now() >= spin_until) {
        std::unique_lock<std::mutex> lock(mutex_);
        sleepers_.fetch_add(1);
        wake_.wait(lock, [&] { return static_cast<uint32_t>(work_.load() >> 32) != seen; });
        sleepers_.fetch_sub(1);
      }
      current = generation_now();
    }
    seen = current;
    if (stopping_.load(std::memory_order_acquire)) return;
    run_chunks(current, thread_index);
  }
}

int physical_core_count() {
  std::set<std::string> cores;
  for (unsigned cpu = 0; cpu < 4096; ++cpu) {
    std::ifstream in("/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/core_cpus_list");
    if (!in) {
      std::ifstream in_old("/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/thread_siblings_list");
      if (!in_old) break;
      std::string s;
      std::getline(in_old, s);
      cores.insert(s);
      continue;
    }
    std::string s;
    std::getline(in, s);
    cores.insert(s);
  }
  if (!cores.empty()) return static_cast<int>(cores.size());
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace dseek
