// The HTTP/1.1 request reader: requests as RFC 9112 writes them, split at
// every byte, chunked bodies, pipelining, and every refusal with the status
// that says why (smuggling attempts, folded or oversized headers, bad
// framing).
#include "server/http/http_request.h"

#include <gtest/gtest.h>

namespace dseek::server {
namespace {

using State = HttpRequestReader::State;

struct Read {
  State state;
  HttpRequest request;
  int status = 0;
  std::string rest;
};

Read read_all(std::string bytes, HttpLimits limits = {}) {
  HttpRequestReader r(limits);
  Read out;
  out.state = r.read(bytes);
  if (out.state == State::kDone) out.request = r.take();
  out.status = r.error_status();
  out.rest = bytes;
  return out;
}

TEST(HttpRequest, ReadsAPostWithContentLengthAtEverySplit) {
  const std::string raw =
      "POST /v1/chat/completions?x=1 HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
      "Content-Length: 7\r\nAuthorization:  Bearer k \r\n\r\n{\"a\":1}";
  for (size_t split = 0; split <= raw.size(); ++split) {
    HttpRequestReader r(HttpLimits{});
    std::string buffer = raw.substr(0, split);
    State s = r.read(buffer);
    if (split < raw.size()) {
      ASSERT_EQ(s, State::kNeedMore) << split;
    }
    buffer += raw.substr(split);
    s = r.read(buffer);
    ASSERT_EQ(s, State::kDone) << split;
    HttpRequest q = r.take();
    EXPECT_EQ(q.method, "POST");
    EXPECT_EQ(q.path, "/v1/chat/completions");
    EXPECT_EQ(q.query, "x=1");
    EXPECT_EQ(q.body, "{\"a\":1}");
    ASSERT_NE(q.header("authorization"), nullptr);
    EXPECT_EQ(*q.header("authorization"), "Bearer k");
    EXPECT_TRUE(q.keep_alive);
    EXPECT_TRUE(buffer.empty());
  }
}

TEST(HttpRequest, ChunkedBodyWithExtensionsAndTrailers) {
  Read r = read_all("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX: y\r\n\r\nNEXT");
  ASSERT_EQ(r.state, State::kDone);
  EXPECT_EQ(r.request.body, "Wikipedia");
  EXPECT_EQ(r.rest, "NEXT");
}

TEST(HttpRequest, PipelinedRequestsStayInTheBuffer) {
  std::string buffer = "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\nConnection: close\r\n\r\n";
  HttpRequestReader r(HttpLimits{});
  ASSERT_EQ(r.read(buffer), State::kDone);
  EXPECT_EQ(r.take().path, "/a");
  ASSERT_EQ(r.read(buffer), State::kDone);
  HttpRequest b = r.take();
  EXPECT_EQ(b.path, "/b");
  EXPECT_FALSE(b.keep_alive);
  EXPECT_TRUE(buffer.empty());
}

TEST(HttpRequest, Http10KeepsAliveOnlyWhenAsked) {
  EXPECT_FALSE(read_all("GET / HTTP/1.0\r\n\r\n").request.keep_alive);
  EXPECT_TRUE(read_all("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").request.keep_alive);
}

TEST(HttpRequest, ExpectContinue) {
  HttpRequestReader r(HttpLimits{});
  std::string buffer = "POST / HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n";
  EXPECT_EQ(r.read(buffer), State::kNeedMore);
  EXPECT_TRUE(r.wants_continue());
  buffer += "abc";
  EXPECT_EQ(r.read(buffer), State::kDone);
}

TEST(HttpRequest, RefusalsNameTheirStatus) {
  HttpLimits small;
  small.max_head_bytes = 256;
  small.max_target_bytes = 64;
  small.max_headers = 4;
  small.max_body_bytes = 10;
  struct Case {
    std::string raw;
    int status;
  } cases[] = {
      {"GET / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400},  // smuggling
      {"GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nContent-Length: -5\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", 413},
      {"GET / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
      {"GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nBad Name: a\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\n: empty\r\n\r\n", 400},
      {"GET / HTTP/2.0\r\n\r\n", 505},
      {"GET / FOO\r\n\r\n", 400},
      {"GET  / HTTP/1.1\r\n\r\n", 400},
      {"GET http://x/ HTTP/1.1\r\n\r\n", 400},
      {"G\x01T / HTTP/1.1\r\n\r\n", 400},
      {"GET /" + std::string(100, 'a') + " HTTP/1.1\r\n\r\n", 414},
      {"GET / HTTP/1.1\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\n\r\n", 431},
      {"GET / HTTP/1.1\r\nA: " + std::string(300, 'x') + "\r\n\r\n", 431},
      {"GET / HTTP/1.1\r\nExpect: something\r\n\r\n", 417},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nb\r\n", 413},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX", 400},
      {"GET / HTTP/1.1\rX: y\r\n\r\n", 400},
  };
  for (const Case& c : cases) {
    Read r = read_all(c.raw, small);
    EXPECT_EQ(r.state, State::kError) << c.raw;
    EXPECT_EQ(r.status, c.status) << c.raw;
  }
}

TEST(HttpRequest, AnEndlessHeadIsRefusedWithoutItsEnd) {
  HttpLimits limits;
  limits.max_head_bytes = 1024;
  HttpRequestReader r(limits);
  std::string buffer = "GET / HTTP/1.1\r\n";
  State s = State::kNeedMore;
  for (int i = 0; i < 200 && s == State::kNeedMore; ++i) {
    buffer += "X-" + std::to_string(i) + ": v\r\n";
    s = r.read(buffer);
  }
  EXPECT_EQ(s, State::kError);
  EXPECT_EQ(r.error_status(), 431);
}

}  // namespace
}  // namespace dseek::server
