// API keys (file format, matching, namespaces that never equal the key),
// the loopback rule for binding without keys, rate limits on a controlled
// clock, and the Prometheus text format of /metrics.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "server/auth.h"
#include "server/metrics.h"
#include "server/rate_limiter.h"

namespace dseek::server {
namespace {

TEST(ApiKeys, FileFormatAndMatching) {
  auto keys = ApiKeys::from_text("# comment\n\n  sk-aaaaaaaaaaaaaaaa1  \r\nsk-bbbbbbbbbbbbbbbb2\n", "keys.txt");
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  EXPECT_EQ(keys->size(), 2u);
  EXPECT_EQ(keys->match("Bearer sk-aaaaaaaaaaaaaaaa1"), std::optional<size_t>(0));
  EXPECT_EQ(keys->match("Bearer sk-bbbbbbbbbbbbbbbb2"), std::optional<size_t>(1));
  EXPECT_FALSE(keys->match("Bearer sk-bbbbbbbbbbbbbbbb"));
  EXPECT_FALSE(keys->match("Bearer sk-bbbbbbbbbbbbbbbb22"));
  EXPECT_FALSE(keys->match("sk-aaaaaaaaaaaaaaaa1"));
  EXPECT_FALSE(keys->match("Bearer "));
  EXPECT_FALSE(keys->match(""));
  const std::string ns = keys->cache_namespace(0);
  EXPECT_EQ(ns.find("sk-aaaa"), std::string::npos);
  EXPECT_NE(ns, keys->cache_namespace(1));
}

TEST(ApiKeys, BadFilesSayWhyWithoutShowingKeys) {
  auto short_key = ApiKeys::from_text("short\n", "k");
  ASSERT_FALSE(short_key.ok());
  EXPECT_EQ(short_key.error().message.find("short\n"), std::string::npos);
  EXPECT_NE(short_key.error().message.find("line 1"), std::string::npos);
  EXPECT_FALSE(ApiKeys::from_text("# only a comment\n", "k").ok());
  EXPECT_FALSE(ApiKeys::from_text("sk-aaaaaaaa aaaaaaaaaa\n", "k").ok());
  EXPECT_FALSE(ApiKeys::from_file("/nonexistent/keys").ok());
}

TEST(ApiKeys, ConstantTimeEqualIsEquality) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "ab"));
  EXPECT_FALSE(constant_time_equal("abc", "abcabc"));
  EXPECT_FALSE(constant_time_equal("abc", ""));
  EXPECT_TRUE(constant_time_equal("", ""));
}

TEST(Bind, OnlyLoopbackWithoutKeys) {
  for (const char* h : {"127.0.0.1", "127.1.2.3", "::1", "localhost"}) EXPECT_TRUE(is_loopback_host(h)) << h;
  for (const char* h : {"0.0.0.0", "::", "192.168.1.2", "10.0.0.1", "example.com", ""}) EXPECT_FALSE(is_loopback_host(h)) << h;
}

TEST(RateLimiter, RequestsPerMinuteRefillContinuously) {
  RateLimiter r(60, 0);
  const auto t0 = RateLimiter::Clock::time_point{} + std::chrono::hours(1);
  int64_t retry = 0;
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(r.admit("a", t0, retry)) << i;
  EXPECT_FALSE(r.admit("a", t0, retry));
  EXPECT_EQ(retry, 1);
  EXPECT_TRUE(r.admit("b", t0, retry)) << "callers have separate allowances";
  EXPECT_TRUE(r.admit("a", t0 + std::chrono::milliseconds(1001), retry));
  EXPECT_FALSE(r.admit("a", t0 + std::chrono::milliseconds(1002), retry));
}

TEST(RateLimiter, TokensPerMinuteChargeAfterTheFact) {
  RateLimiter r(0, 1000);
  const auto t0 = RateLimiter::Clock::time_point{} + std::chrono::hours(1);
  int64_t retry = 0;
  EXPECT_TRUE(r.admit("a", t0, retry));
  r.charge_tokens("a", 1500, t0);  // in debt by 500 tokens = 30 s
  EXPECT_FALSE(r.admit("a", t0, retry));
  EXPECT_EQ(retry, 30);
  EXPECT_TRUE(r.admit("a", t0 + std::chrono::seconds(31), retry));
}

TEST(Metrics, PrometheusTextFormat) {
  Metrics m;
  m.request("chat", 200);
  m.request("chat", 429);
  m.prompt_tokens += 12;
  m.request_seconds.observe(0.3);
  m.request_seconds.observe(100);
  Metrics::Gauges g;
  g.queue_depth = 3;
  const std::string text = m.render(g);
  // Every line is a comment or "name{labels} value" (exposition format 0.0.4).
  const std::regex sample(R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*",?)*\})? [-+0-9.eE]+(Inf)?$)");
  const std::regex comment(R"(^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*$)");
  std::istringstream in(text);
  std::string line;
  int samples = 0;
  while (std::getline(in, line)) {
    if (line.rfind("#", 0) == 0) {
      EXPECT_TRUE(std::regex_match(line, comment)) << line;
    } else {
      EXPECT_TRUE(std::regex_match(line, sample)) << line;
      ++samples;
    }
  }
  EXPECT_GT(samples, 20);
  EXPECT_NE(text.find("dseek_http_requests_total{route=\"chat\",code=\"429\"} 1"), std::string::npos);
  EXPECT_NE(text.find("dseek_queue_depth 3"), std::string::npos);
  EXPECT_NE(text.find("dseek_request_duration_seconds_bucket{le=\"0.5\"} 1"), std::string::npos);
  EXPECT_NE(text.find("dseek_request_duration_seconds_bucket{le=\"+Inf\"} 2"), std::string::npos);
  EXPECT_NE(text.find("dseek_request_duration_seconds_count 2"), std::string::npos);
}

}  // namespace
}  // namespace dseek::server
