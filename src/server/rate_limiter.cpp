#include "server/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace dseek::server {

void RateLimiter::refill(Bucket& b, Clock::time_point now) const {
  const double minutes = std::chrono::duration<double>(now - b.updated).count() / 60.0;
  if (minutes <= 0) return;
  b.requests = std::min<double>(static_cast<double>(rpm_), b.requests + minutes * static_cast<double>(rpm_));
  b.tokens = std::min<double>(static_cast<double>(tpm_), b.tokens + minutes * static_cast<double>(tpm_));
  b.updated = now;
}

RateLimiter::Bucket& RateLimiter::bucket(const std::string& caller, Clock::time_point now) {
  auto [it, inserted] = buckets_.try_emplace(caller);
  if (inserted) {
    // Callers who went quiet are forgotten (their buckets are full again anyway).
    if (buckets_.size() > 100'000) {
      for (auto i = buckets_.begin(); i != buckets_.end();)
        i = now - i->second.updated > std::chrono::minutes(1) && i != it ? buckets_.erase(i) : std::next(i);
    }
    it->second.requests = static_cast<double>(rpm_);
    it->second.tokens = static_cast<double>(tpm_);
    it->second.updated = now;
  }
  refill(it->second, now);
  return it->second;
}

bool RateLimiter::admit(const std::string& caller, Clock::time_point now, int64_t& retry_after_seconds) {
  if (rpm_ <= 0 && tpm_ <= 0) return true;
  std::lock_guard<std::mutex> lock(mutex_);
  Bucket& b = bucket(caller, now);
  double wait = 0;
  if (rpm_ > 0 && b.requests < 1) wait = std::max(wait, (1 - b.requests) * 60.0 / static_cast<double>(rpm_));
  if (tpm_ > 0 && b.tokens < 0) wait = std::max(wait, -b.tokens * 60.0 / static_cast<double>(tpm_));
  if (wait > 0) {
    retry_after_seconds = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait)));
    return false;
  }
  if (rpm_ > 0) b.requests -= 1;
  return true;
}

void RateLimiter::charge_tokens(const std::string& caller, int64_t tokens, Clock::time_point now) {
  if (tpm_ <= 0) return;
  std::lock_guard<std::mutex> lock(mutex_);
  bucket(caller, now).tokens -= static_cast<double>(tokens);
}

}  // namespace dseek::server
