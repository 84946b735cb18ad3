// A small HTTP/1.1 server built for hostile clients.
//
// Why not cpp-httplib (Debian's libcpp-httplib 0.11.4, compiled limits):
// it reads each request on a pool thread with only a per-read timeout, so a
// client sending one header byte per second holds a thread forever (measured:
// 20 such connections kept a fresh request waiting 26 s); it accepts an
// unbounded number of header lines (20 MB of headers were read); and its
// listen backlog is fixed at 5 (11 of 300 simultaneous connects were reset).
//
// Here one I/O thread reads every connection without blocking, so a slow
// client costs a socket and a buffer, not a thread, and each request has a
// deadline for its whole head and another for its whole body, besides the
// size limits of HttpRequestReader. A complete request goes to a worker
// thread, which writes the response (in full, or as a chunked stream) with a
// write timeout and can ask whether the client is still there, so a model
// stops generating for a client that left. Connections beyond the limit, and
// requests beyond the workers' queue, get 503 at once.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "server/http/http_request.h"
#include "util/result.h"

namespace dseek::server {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (see HttpServer::port())
  HttpLimits limits;
  int max_connections = 512;
  int workers = 32;
  int max_pending = 256;  // complete requests waiting for a worker
  std::chrono::milliseconds head_timeout{10'000};   // the whole request head
  std::chrono::milliseconds body_timeout{30'000};   // the whole body
  std::chrono::milliseconds idle_timeout{30'000};   // a kept-alive connection between requests
  std::chrono::milliseconds write_timeout{30'000};  // without any progress writing
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// The worker's end of one request: answer it once, in full or as a stream.
class ResponseWriter {
 public:
  bool send(int status, std::string_view content_type, std::string_view body, const HttpHeaders& extra = {});
  // Chunked transfer coding: begin, any number of chunks, end.
  bool begin_stream(int status, std::string_view content_type, const HttpHeaders& extra = {});
  bool write_chunk(std::string_view data);
  bool end_stream();

  // The client closed or broke the connection, or the server is stopping.
  bool client_gone();
  bool started() const { return started_; }
  const std::string& remote_address() const { return remote_; }
  // Close the connection after this response even if the client asked to keep it.
  void close_after() { keep_alive_ = false; }

 private:
  friend class HttpServer;
  bool write_all(std::string_view data);
  std::string head(int status, std::string_view content_type, const HttpHeaders& extra, bool chunked,
                   size_t length);

  int fd_ = -1;
  std::string remote_;
  bool keep_alive_ = true;
  bool head_only_ = false;
  bool started_ = false;
  bool broken_ = false;
  bool streaming_ = false;
  std::chrono::milliseconds write_timeout_{0};
  const std::atomic<bool>* stopping_ = nullptr;
};

using HttpHandler = std::function<void(const HttpRequest&, ResponseWriter&)>;

// The text of a status code ("Not Found").
const char* http_reason(int status);

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens (errors name the address), then starts the threads.
  Status start();
  int port() const { return port_; }
  // Stops accepting, closes idle connections, waits for the workers.
  void stop();

  struct Stats {
    int64_t connections = 0;       // open now
    int64_t refused_connections = 0;
    int64_t timed_out = 0;         // requests whose head or body took too long
    int64_t bad_requests = 0;      // refused by the request reader
  };
  Stats stats() const;

 private:
  struct Connection;
  void io_loop();
  void worker_loop();
  void accept_all();
  void read_from(Connection& c);
  std::unique_ptr<Connection> dispatch(std::unique_ptr<Connection> c, HttpRequest request);
  void respond_and_close(Connection& c, int status, const std::string& message);
  void close_connection(std::unique_ptr<Connection> c);
  void wake();

  HttpServerOptions options_;
  HttpHandler handler_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread io_thread_;
  std::vector<std::thread> workers_;

  // Connections being read (owned by the I/O thread).
  std::vector<std::unique_ptr<Connection>> reading_;

  // Requests for the workers, and connections they hand back.
  std::mutex mutex_;
  std::condition_variable work_ready_;
  struct Job {
    std::unique_ptr<Connection> connection;
    HttpRequest request;
  };
  std::deque<Job> jobs_;
  std::vector<std::unique_ptr<Connection>> returned_;

  std::atomic<int64_t> open_connections_{0};
  std::atomic<int64_t> refused_{0}, timed_out_{0}, bad_requests_{0};
};

}  // namespace dseek::server
