#include "util/thread_pool.h"

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
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_chunks(int thread_index) {
  for (;;) {
    int64_t begin = next_.fetch_add(chunk_, std::memory_order_relaxed);
    if (begin >= n_) return;
    (*body_)(begin, std::min(n_, begin + chunk_), thread_index);
  }
}

void ThreadPool::parallel_for(int64_t n, int64_t grain, const RangeFn& body) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  if (n_threads_ == 1 || n <= grain) {
    body(0, n, 0);
    return;
  }
  // About four chunks per thread balances uneven rows without much overhead.
  body_ = &body;
  n_ = n;
  chunk_ = std::max(grain, (n + 4 * n_threads_ - 1) / (4 * n_threads_));
  next_.store(0, std::memory_order_relaxed);
  unfinished_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
  // Sequentially consistent: this increment and the sleeper count below, and
  // the worker's increment of sleepers_ and its check of generation_, are a
  // store-then-load pair on each side; at least one side must see the other.
  generation_.fetch_add(1);  // publishes the loop
  if (sleepers_.load() > 0) {
    std::lock_guard<std::mutex> lock(mutex_);  // pairs with the sleeper's check
    wake_.notify_all();
  }
  run_chunks(0);
  // Wait for the workers; yield now and then in case one of them needs this
  // core (more threads than free cores).
  for (int i = 1; unfinished_.load(std::memory_order_acquire) > 0; ++i) {
    cpu_relax();
    if ((i & 63) == 0) std::this_thread::yield();
  }
  body_ = nullptr;
}

void ThreadPool::worker_loop(int thread_index) {
  if (options_.pin_threads) pin_to_cpu(thread_index);
  uint64_t seen = 0;
  for (;;) {
    // Poll for the next loop for a short while, then sleep.
    const auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(options_.spin_microseconds);
    uint64_t current = generation_.load(std::memory_order_acquire);
    for (int i = 1; current == seen; ++i) {
      cpu_relax();
      if ((i & 63) == 0) std::this_thread::yield();
      if ((i & 255) == 0 && std::chrono::steady_clock::now() >= spin_until) {
        std::unique_lock<std::mutex> lock(mutex_);
        sleepers_.fetch_add(1);
        wake_.wait(lock, [&] { return generation_.load() != seen; });
        sleepers_.fetch_sub(1);
      }
      current = generation_.load(std::memory_order_acquire);
    }
    seen = current;
    if (stopping_.load(std::memory_order_acquire)) return;
    run_chunks(thread_index);
    unfinished_.fetch_sub(1, std::memory_order_acq_rel);
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
