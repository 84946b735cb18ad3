// Counters and histograms for /metrics, in Prometheus' text exposition
// format (version 0.0.4). Gauges that live elsewhere (queue depth, batch
// size, cache sizes) are read when the page is rendered.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace dseek::server {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}
  void observe(double value);
  // Appends the _bucket, _sum and _count lines of `name`.
  void render(const std::string& name, const std::string& help, std::string& out) const;

 private:
  std::vector<double> bounds_;
  mutable std::mutex mutex_;
  std::vector<uint64_t> counts_;
  double sum_ = 0;
  uint64_t count_ = 0;
};

class Metrics {
 public:
  Metrics();

  void request(const std::string& route, int status);  // an answered HTTP request
  std::atomic<int64_t> prompt_tokens{0}, completion_tokens{0}, cache_hit_tokens{0};
  std::atomic<int64_t> rate_limited{0}, overloaded{0}, client_disconnects{0};
  Histogram request_seconds;
  Histogram first_token_seconds;

  // Gauges, sampled at render time.
  struct Gauges {
    int64_t queue_depth = 0, active_sequences = 0, batch_sequences = 0, batch_tokens = 0;
    int64_t open_connections = 0;
    int64_t cache_ram_bytes = 0, cache_disk_bytes = 0, cache_corrupt_dropped = 0;
  };
  std::string render(const Gauges& gauges) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
};

}  // namespace dseek::server
