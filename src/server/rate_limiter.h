// Per-caller rate limits, requests and tokens per minute, as token buckets
// that refill continuously (a full minute's allowance may be spent at once,
// then it comes back at limit/60 per second). Tokens are only known after
// the fact, so a request is let in while the caller's token bucket is not
// in debt, and its tokens are charged when counted.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace dseek::server {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // 0: no limit.
  RateLimiter(int64_t requests_per_minute, int64_t tokens_per_minute)
      : rpm_(requests_per_minute), tpm_(tokens_per_minute) {}

  // Takes one request from the caller's allowance; false: rate limited
  // (retry_after_seconds says when to try again).
  bool admit(const std::string& caller, Clock::time_point now, int64_t& retry_after_seconds);
  void charge_tokens(const std::string& caller, int64_t tokens, Clock::time_point now);

 private:
  struct Bucket {
    double requests = 0, tokens = 0;  // what is left
    Clock::time_point updated;
  };
  void refill(Bucket& b, Clock::time_point now) const;
  Bucket& bucket(const std::string& caller, Clock::time_point now);

  int64_t rpm_, tpm_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace dseek::server
