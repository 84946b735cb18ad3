#include "server/metrics.h"

#include <cstdio>

namespace dseek::server {

namespace {

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

void header(std::string& out, const std::string& name, const char* type, const std::string& help) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

void scalar(std::string& out, const std::string& name, const char* type, const std::string& help, double v) {
  header(out, name, type, help);
  out += name + " " + number(v) + "\n";
}

}  // namespace

void Histogram::observe(double value) {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += value;
  ++count_;
}

void Histogram::render(const std::string& name, const std::string& help, std::string& out) const {
  std::lock_guard<std::mutex> lock(mutex_);
  header(out, name, "histogram", help);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += name + "_bucket{le=\"" + number(bounds_[i]) + "\"} " + std::to_string(cumulative) + "\n";
  }
  out += name + "_bucket{le=\"+Inf\"} " + std::to_string(count_) + "\n";
  out += name + "_sum " + number(sum_) + "\n";
  out += name + "_count " + std::to_string(count_) + "\n";
}

Metrics::Metrics()
    : request_seconds({0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}),
      first_token_seconds({0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}) {}

void Metrics::request(const std::string& route, int status) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{route, status}];
}

std::string Metrics::render(const Gauges& g) const {
  std::string out;
  header(out, "dseek_http_requests_total", "counter", "HTTP requests answered, by route and status code.");
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [key, count] : requests_)
      out += "dseek_http_requests_total{route=\"" + key.first + "\",code=\"" + std::to_string(key.second) + "\"} " +
             std::to_string(count) + "\n";
  }
  scalar(out, "dseek_prompt_tokens_total", "counter", "Prompt tokens of finished requests.",
         static_cast<double>(prompt_tokens.load()));
  scalar(out, "dseek_completion_tokens_total", "counter", "Generated tokens of finished requests.",
         static_cast<double>(completion_tokens.load()));
  scalar(out, "dseek_prompt_cache_hit_tokens_total", "counter", "Prompt tokens restored from the prefix cache.",
         static_cast<double>(cache_hit_tokens.load()));
  scalar(out, "dseek_rate_limited_total", "counter", "Requests refused with 429 by the per-key rate limits.",
         static_cast<double>(rate_limited.load()));
  scalar(out, "dseek_overloaded_total", "counter", "Requests refused with 503 because the queue was full.",
         static_cast<double>(overloaded.load()));
  scalar(out, "dseek_client_disconnects_total", "counter", "Requests whose client left before the answer ended.",
         static_cast<double>(client_disconnects.load()));
  scalar(out, "dseek_queue_depth", "gauge", "Requests waiting for a decoding slot.", static_cast<double>(g.queue_depth));
  scalar(out, "dseek_active_sequences", "gauge", "Requests decoding now.", static_cast<double>(g.active_sequences));
  scalar(out, "dseek_batch_size", "gauge", "Sequences in the last forward pass.", static_cast<double>(g.batch_sequences));
  scalar(out, "dseek_batch_tokens", "gauge", "Tokens in the last forward pass.", static_cast<double>(g.batch_tokens));
  scalar(out, "dseek_open_connections", "gauge", "Open HTTP connections.", static_cast<double>(g.open_connections));
  scalar(out, "dseek_prefix_cache_ram_bytes", "gauge", "Bytes of prefix-cache blocks in RAM.",
         static_cast<double>(g.cache_ram_bytes));
  scalar(out, "dseek_prefix_cache_disk_bytes", "gauge", "Bytes of prefix-cache blocks on disk.",
         static_cast<double>(g.cache_disk_bytes));
  scalar(out, "dseek_prefix_cache_corrupt_dropped_total", "counter",
         "Prefix-cache entries found damaged and discarded.", static_cast<double>(g.cache_corrupt_dropped));
  request_seconds.render("dseek_request_duration_seconds", "Time from request to the end of its answer.", out);
  first_token_seconds.render("dseek_time_to_first_token_seconds", "Time from request to its first generated token.",
                             out);
  return out;
}

}  // namespace dseek::server
