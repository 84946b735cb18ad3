// The HTTP server against well-behaved and hostile clients on a real
// loopback socket: keep-alive and pipelining, 100-continue, chunked
// responses; slowloris heads and bodies cut off by their deadlines while
// other clients are served at once; size limits answered (and seen by the
// client) before the connection closes; the connection limit; and a
// handler learning promptly that its client left.
#include "server/http/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>

#include "server/http_client.h"

namespace dseek::server {
namespace {

using namespace std::chrono_literals;
using testing::HttpClient;
using Clock = std::chrono::steady_clock;

struct Fixture {
  std::unique_ptr<HttpServer> server;
  std::atomic<bool> gone_seen{false};
  std::atomic<int> streams{0};

  explicit Fixture(HttpServerOptions o) {
    o.host = "127.0.0.1";
    o.port = 0;
    server = std::make_unique<HttpServer>(o, [this](const HttpRequest& r, ResponseWriter& w) {
      if (r.path == "/echo") {
        w.send(200, "text/plain", r.method + " " + r.body);
      } else if (r.path == "/stream") {
        w.begin_stream(200, "text/event-stream");
        for (int i = 0; i < 3; ++i) w.write_chunk("data: " + std::to_string(i) + "\n\n");
        w.end_stream();
      } else if (r.path == "/wait-for-gone") {
        streams++;
        w.begin_stream(200, "text/event-stream");
        const auto start = Clock::now();
        while (Clock::now() - start < 10s) {
          if (w.client_gone()) {
            gone_seen = true;
            return;
          }
          std::this_thread::sleep_for(20ms);
        }
        w.end_stream();
      } else if (r.path == "/throw") {
        throw std::runtime_error("bug");
      } else {
        w.send(404, "text/plain", "no");
      }
    });
    auto s = server->start();
    EXPECT_TRUE(s.ok()) << s.error().message;
  }
  int port() const { return server->port(); }
};

HttpServerOptions fast_options() {
  HttpServerOptions o;
  o.head_timeout = 400ms;
  o.body_timeout = 400ms;
  o.idle_timeout = 400ms;
  o.write_timeout = 2s;
  o.workers = 4;
  return o;
}

TEST(HttpServer, KeepAliveAndPipelining) {
  Fixture f(fast_options());
  HttpClient c(f.port());
  for (int i = 0; i < 3; ++i) {
    auto r = c.request("POST", "/echo", "n" + std::to_string(i));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "POST n" + std::to_string(i));
  }
  ASSERT_TRUE(c.send_raw("GET /echo HTTP/1.1\r\n\r\nPOST /echo HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi"));
  EXPECT_EQ(c.read_response().body, "GET ");
  EXPECT_EQ(c.read_response().body, "POST hi");
  auto s = c.request("GET", "/stream");
  EXPECT_EQ(s.status, 200);
  EXPECT_EQ(s.body, "data: 0\n\ndata: 1\n\ndata: 2\n\n");
  EXPECT_EQ(c.request("GET", "/nothing").status, 404);
}

TEST(HttpServer, ExpectContinueAndChunkedUpload) {
  Fixture f(fast_options());
  HttpClient c(f.port());
  ASSERT_TRUE(c.send_raw("POST /echo HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(c.send_raw("hello"));
  auto r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "POST hello");
  ASSERT_TRUE(c.send_raw("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n"));
  EXPECT_EQ(c.read_response().body, "POST abc");
}

TEST(HttpServer, SlowlorisIsCutOffWhileOthersAreServed) {
  Fixture f(fast_options());
  std::vector<std::unique_ptr<HttpClient>> slow;
  for (int i = 0; i < 50; ++i) {
    slow.push_back(std::make_unique<HttpClient>(f.port()));
    ASSERT_TRUE(slow.back()->send_raw("GET /echo HTTP/1.1\r\n"));
  }
  // They keep dribbling a byte at a time; a fresh client is not kept waiting.
  const auto start = Clock::now();
  std::thread dribble([&] {
    for (int k = 0; k < 10; ++k) {
      for (auto& s : slow) s->send_raw("X");
      std::this_thread::sleep_for(50ms);
    }
  });
  HttpClient fresh(f.port());
  auto r = fresh.request("GET", "/echo");
  EXPECT_EQ(r.status, 200);
  EXPECT_LT(Clock::now() - start, 300ms);
  dribble.join();
  // Each slow head was answered 408 at its deadline and closed.
  for (auto& s : slow) {
    auto t = s->read_response(2s);
    EXPECT_EQ(t.status, 408);
    EXPECT_TRUE(s->closed_by_server(2s));
  }
  EXPECT_GE(f.server->stats().timed_out, 50);
}

TEST(HttpServer, SlowBodyIsCutOff) {
  Fixture f(fast_options());
  HttpClient c(f.port());
  ASSERT_TRUE(c.send_raw("POST /echo HTTP/1.1\r\nContent-Length: 100\r\n\r\n0123456789"));
  auto r = c.read_response(2s);
  EXPECT_EQ(r.status, 408);
}

TEST(HttpServer, LimitsAreAnsweredBeforeClosing) {
  HttpServerOptions o = fast_options();
  o.limits.max_body_bytes = 1000;
  o.limits.max_head_bytes = 2000;
  Fixture f(o);
  {
    HttpClient c(f.port());
    // The client sends its whole (too large) body without waiting: it must still read the 413.
    ASSERT_TRUE(c.send_raw("POST /echo HTTP/1.1\r\nContent-Length: 200000\r\n\r\n" + std::string(200000, 'x')));
    EXPECT_EQ(c.read_response(3s).status, 413);
  }
  {
    HttpClient c(f.port());
    c.send_raw("GET /echo HTTP/1.1\r\n" + std::string(3000, 'a') + ": b\r\n\r\n");
    EXPECT_EQ(c.read_response(3s).status, 431);
  }
  {
    HttpClient c(f.port());
    c.send_raw("GARBAGE\r\n\r\n");
    EXPECT_EQ(c.read_response(3s).status, 400);
    EXPECT_TRUE(c.closed_by_server(3s));
  }
  HttpClient ok(f.port());
  EXPECT_EQ(ok.request("GET", "/echo").status, 200);
}

TEST(HttpServer, ConnectionLimit) {
  HttpServerOptions o = fast_options();
  o.max_connections = 4;
  o.idle_timeout = 5s;
  o.head_timeout = 5s;
  Fixture f(o);
  std::vector<std::unique_ptr<HttpClient>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<HttpClient>(f.port()));
    EXPECT_EQ(held.back()->request("GET", "/echo").status, 200);
  }
  HttpClient extra(f.port());
  auto r = extra.request("GET", "/echo");
  EXPECT_EQ(r.status, 503);
  held.clear();
  std::this_thread::sleep_for(200ms);
  HttpClient later(f.port());
  EXPECT_EQ(later.request("GET", "/echo").status, 200);
}

TEST(HttpServer, HandlerLearnsTheClientLeft) {
  Fixture f(fast_options());
  {
    HttpClient c(f.port());
    ASSERT_TRUE(c.send_raw("GET /wait-for-gone HTTP/1.1\r\n\r\n"));
    while (f.streams.load() == 0) std::this_thread::sleep_for(5ms);
    std::this_thread::sleep_for(50ms);
  }  // closes the socket
  const auto start = Clock::now();
  while (!f.gone_seen.load() && Clock::now() - start < 3s) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(f.gone_seen.load());
  EXPECT_LT(Clock::now() - start, 500ms);
}

TEST(HttpServer, IdleConnectionsCloseAndBugsGet500) {
  Fixture f(fast_options());
  HttpClient c(f.port());
  EXPECT_EQ(c.request("GET", "/throw").status, 500);
  HttpClient idle(f.port());
  EXPECT_EQ(idle.request("GET", "/echo").status, 200);
  EXPECT_TRUE(idle.closed_by_server(2s));
}

TEST(HttpServer, StopWithOpenConnections) {
  auto f = std::make_unique<Fixture>(fast_options());
  HttpClient a(f->port());
  a.send_raw("GET /echo HTTP/1.1\r\n");
  HttpClient b(f->port());
  b.send_raw("GET /wait-for-gone HTTP/1.1\r\n\r\n");
  std::this_thread::sleep_for(100ms);
  const auto start = Clock::now();
  f->server->stop();
  EXPECT_LT(Clock::now() - start, 2s);
}

}  // namespace
}  // namespace dseek::server
