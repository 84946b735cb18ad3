#include "server/http/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

namespace dseek::server {

using Clock = std::chrono::steady_clock;

namespace {

// After refusing a request, the server reads and drops what the client is
// still sending for a moment before closing: closing a socket with unread
// input resets it, and the client would lose the answer.
constexpr auto kLingerTime = std::chrono::milliseconds(2000);
constexpr size_t kLingerBytes = 4 * 1024 * 1024;
constexpr size_t kReadChunk = 64 * 1024;

std::string address_of(const sockaddr_storage& a) {
  char host[INET6_ADDRSTRLEN] = "?";
  if (a.ss_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(a).sin_addr, host, sizeof host);
  else if (a.ss_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(a).sin6_addr, host, sizeof host);
  return host;
}

}  // namespace

const char* http_reason(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

// ---- ResponseWriter ---------------------------------------------------------

bool ResponseWriter::write_all(std::string_view data) {
  if (broken_) return false;
  const auto timeout = static_cast<int>(write_timeout_.count());
  while (!data.empty()) {
    const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_, POLLOUT, 0};
      const int r = ::poll(&p, 1, timeout);
      if (r > 0 && (p.revents & POLLOUT)) continue;
      if (r < 0 && errno == EINTR) continue;
    }
    broken_ = true;  // timed out, reset, or closed
    return false;
  }
  return true;
}

std::string ResponseWriter::head(int status, std::string_view content_type, const HttpHeaders& extra, bool chunked,
                                 size_t length) {
  std::string h = "HTTP/1.1 " + std::to_string(status) + " " + http_reason(status) + "\r\n";
  if (!content_type.empty()) h += "Content-Type: " + std::string(content_type) + "\r\n";
  if (chunked)
    h += "Transfer-Encoding: chunked\r\n";
  else
    h += "Content-Length: " + std::to_string(length) + "\r\n";
  h += keep_alive_ ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  h += "X-Content-Type-Options: nosniff\r\n";
  for (const auto& [name, value] : extra) h += name + ": " + value + "\r\n";
  h += "\r\n";
  return h;
}

bool ResponseWriter::send(int status, std::string_view content_type, std::string_view body, const HttpHeaders& extra) {
  if (started_) return false;
  started_ = true;
  std::string out = head(status, content_type, extra, false, body.size());
  if (!head_only_) out.append(body);
  return write_all(out);
}

bool ResponseWriter::begin_stream(int status, std::string_view content_type, const HttpHeaders& extra) {
  if (started_) return false;
  started_ = true;
  streaming_ = true;
  return write_all(head(status, content_type, extra, true, 0));
}

bool ResponseWriter::write_chunk(std::string_view data) {
  if (!streaming_ || data.empty()) return streaming_ && !broken_;
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  std::string out = size;
  out.append(data);
  out.append("\r\n");
  return write_all(out);
}

bool ResponseWriter::end_stream() {
  if (!streaming_) return false;
  streaming_ = false;
  return write_all("0\r\n\r\n");
}

bool ResponseWriter::client_gone() {
  if (broken_ || (stopping_ && stopping_->load())) return true;
  pollfd p{fd_, static_cast<short>(POLLIN | POLLRDHUP), 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) {
    broken_ = true;
    return true;
  }
  if (p.revents & POLLIN) {
    char c;
    const ssize_t n = ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      broken_ = true;
      return true;
    }
  }
  return false;  // readable with data: the client's next (pipelined) request
}

// ---- HttpServer -------------------------------------------------------------

struct HttpServer::Connection {
  int fd = -1;
  std::string remote;
  std::string buffer;
  HttpRequestReader reader;
  Clock::time_point deadline;
  bool idle = true;           // between requests: no byte of the next one yet
  bool body_deadline = false; // the head is read; the deadline is the body's
  bool continue_sent = false;
  bool lingering = false;     // answered with an error; draining input before close
  bool fresh_input = false;   // bytes arrived (or a worker handed it back) since the last parse
  size_t drained = 0;

  explicit Connection(const HttpLimits& limits) : reader(limits) {}
};

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : options_(std::move(options)), handler_(std::move(handler)) {}

HttpServer::~HttpServer() { stop(); }

Status HttpServer::start() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string where = options_.host + ":" + std::to_string(options_.port);
  const std::string port = std::to_string(options_.port);
  if (int rc = ::getaddrinfo(options_.host.c_str(), port.c_str(), &hints, &found); rc != 0)
    return Error{"cannot resolve " + where + ": " + gai_strerror(rc)};
  std::string last_error = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      last_error = std::strerror(errno);
      continue;
    }
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, 1024) != 0) {
      last_error = std::strerror(errno);
      ::close(fd);
      continue;
    }
    listen_fd_ = fd;
    break;
  }
  ::freeaddrinfo(found);
  if (listen_fd_ < 0) return Error{"cannot listen on " + where + ": " + last_error};
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6&>(bound).sin6_port)
                                      : ntohs(reinterpret_cast<sockaddr_in&>(bound).sin_port);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) return Error{std::string("eventfd: ") + std::strerror(errno)};
  io_thread_ = std::thread([this] { io_loop(); });
  for (int i = 0; i < std::max(1, options_.workers); ++i) workers_.emplace_back([this] { worker_loop(); });
  return ok_status();
}

void HttpServer::stop() {
  if (stopping_.exchange(true)) return;
  wake();
  work_ready_.notify_all();
  if (io_thread_.joinable()) io_thread_.join();
  for (auto& w : workers_)
    if (w.joinable()) w.join();
  workers_.clear();
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& c : returned_) close_connection(std::move(c));
  returned_.clear();
  for (auto& j : jobs_) close_connection(std::move(j.connection));
  jobs_.clear();
  if (wake_fd_ >= 0) ::close(wake_fd_);
  wake_fd_ = -1;
}

HttpServer::Stats HttpServer::stats() const {
  Stats s;
  s.connections = open_connections_.load();
  s.refused_connections = refused_.load();
  s.timed_out = timed_out_.load();
  s.bad_requests = bad_requests_.load();
  return s;
}

void HttpServer::wake() {
  if (wake_fd_ < 0) return;
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

void HttpServer::close_connection(std::unique_ptr<Connection> c) {
  if (!c) return;
  if (c->fd >= 0) ::close(c->fd);
  c->fd = -1;
  open_connections_--;
}

void HttpServer::respond_and_close(Connection& c, int status, const std::string& message) {
  nlohmann::json error = {{"error",
                           {{"message", message},
                            {"type", status >= 500 ? "server_error" : "invalid_request_error"},
                            {"param", nullptr},
                            {"code", std::to_string(status)}}}};
  const std::string body = error.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const std::string out = "HTTP/1.1 " + std::to_string(status) + " " + http_reason(status) +
                          "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                          "\r\nConnection: close\r\n\r\n" + body;
  [[maybe_unused]] ssize_t n = ::send(c.fd, out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::shutdown(c.fd, SHUT_WR);
  c.lingering = true;
  c.buffer.clear();
  c.deadline = Clock::now() + kLingerTime;
}

void HttpServer::accept_all() {
  for (;;) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    const int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or an error for that one connection
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    open_connections_++;
    auto c = std::make_unique<Connection>(options_.limits);
    c->fd = fd;
    c->remote = address_of(addr);
    c->deadline = Clock::now() + options_.head_timeout;
    if (open_connections_.load() > options_.max_connections) {
      refused_++;
      respond_and_close(*c, 503, "too many connections");
    }
    reading_.push_back(std::move(c));
  }
}

void HttpServer::read_from(Connection& c) {
  char buf[kReadChunk];
  for (;;) {
    const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n > 0) {
      if (c.lingering) {
        c.drained += static_cast<size_t>(n);
        if (c.drained > kLingerBytes) {
          c.deadline = Clock::now();  // enough: close at the next sweep
          return;
        }
        continue;
      }
      c.buffer.append(buf, static_cast<size_t>(n));
      c.fresh_input = true;
      if (c.buffer.size() > options_.limits.max_head_bytes + options_.limits.max_body_bytes + kReadChunk) break;
      if (static_cast<size_t>(n) < sizeof buf) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    c.deadline = Clock::time_point::min();  // closed or reset: drop at the next sweep
    c.lingering = true;
    return;
  }
  if (c.lingering) return;
  if (c.idle && !c.buffer.empty()) {
    c.idle = false;
    c.deadline = Clock::now() + options_.head_timeout;
  }
}

void HttpServer::io_loop() {
  std::vector<pollfd> fds;
  while (!stopping_.load()) {
    fds.clear();
    fds.push_back({listen_fd_, POLLIN, 0});
    fds.push_back({wake_fd_, POLLIN, 0});
    auto next = Clock::now() + std::chrono::seconds(1);
    for (auto& c : reading_) {
      fds.push_back({c->fd, POLLIN, 0});
      next = std::min(next, c->deadline);
    }
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now()).count();
    const int r = ::poll(fds.data(), fds.size(), static_cast<int>(std::clamp<int64_t>(wait + 1, 0, 1000)));
    if (r < 0 && errno != EINTR) break;
    if (stopping_.load()) break;

    std::vector<std::unique_ptr<Connection>> incoming;
    if (fds[1].revents & POLLIN) {
      uint64_t v;
      [[maybe_unused]] ssize_t n = ::read(wake_fd_, &v, sizeof v);
      std::lock_guard<std::mutex> lock(mutex_);
      incoming.swap(returned_);
    }
    // Connections to parse this round: those with input, and those handed
    // back by a worker (which may already hold the next, pipelined request).
    for (size_t i = 0; i < reading_.size(); ++i)
      if (fds[i + 2].revents != 0) read_from(*reading_[i]);
    for (auto& c : incoming) {
      c->idle = c->buffer.empty();
      c->fresh_input = !c->idle;
      c->body_deadline = c->continue_sent = false;
      c->deadline = Clock::now() + (c->idle ? options_.idle_timeout : options_.head_timeout);
      reading_.push_back(std::move(c));
    }
    if (fds[0].revents & POLLIN) accept_all();

    const auto now = Clock::now();
    for (auto& slot : reading_) {
      Connection& c = *slot;
      if (c.lingering) {
        if (now >= c.deadline) close_connection(std::move(slot));
        continue;
      }
      if (c.fresh_input) {
        c.fresh_input = false;
        const HttpRequestReader::State state = c.reader.read(c.buffer);
        if (state == HttpRequestReader::State::kError) {
          bad_requests_++;
          respond_and_close(c, c.reader.error_status(), c.reader.error_message());
          continue;
        }
        if (state == HttpRequestReader::State::kDone) {
          slot = dispatch(std::move(slot), c.reader.take());  // back only if refused
          continue;
        }
        if (c.reader.head_done() && !c.body_deadline) {
          c.body_deadline = true;
          c.deadline = now + options_.body_timeout;
        }
        if (c.reader.wants_continue() && !c.continue_sent) {
          c.continue_sent = true;
          static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
          [[maybe_unused]] ssize_t n = ::send(c.fd, kContinue, sizeof kContinue - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        }
      }
      if (now >= c.deadline) {
        if (c.idle) {
          close_connection(std::move(slot));
        } else {
          timed_out_++;
          respond_and_close(c, 408, "the request took too long to arrive");
        }
      }
    }
    std::erase_if(reading_, [](const std::unique_ptr<Connection>& c) { return c == nullptr; });
  }
  for (auto& c : reading_) close_connection(std::move(c));
  reading_.clear();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
}

std::unique_ptr<HttpServer::Connection> HttpServer::dispatch(std::unique_ptr<Connection> c, HttpRequest request) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (static_cast<int>(jobs_.size()) >= options_.max_pending) {
    lock.unlock();
    refused_++;
    respond_and_close(*c, 503, "the server is busy");
    return c;  // lingers, then closes
  }
  jobs_.push_back({std::move(c), std::move(request)});
  lock.unlock();
  work_ready_.notify_one();
  return nullptr;
}

void HttpServer::worker_loop() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_ready_.wait(lock, [&] { return stopping_.load() || !jobs_.empty(); });
      if (stopping_.load()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    Connection& c = *job.connection;
    ResponseWriter w;
    w.fd_ = c.fd;
    w.remote_ = c.remote;
    w.keep_alive_ = job.request.keep_alive;
    w.head_only_ = job.request.method == "HEAD";
    w.write_timeout_ = options_.write_timeout;
    w.stopping_ = &stopping_;
    try {
      handler_(job.request, w);
    } catch (...) {
      // A handler that throws is a bug; the client still gets an answer.
      w.close_after();
    }
    if (!w.started_) {
      w.close_after();
      w.send(500, "application/json", R"({"error":{"message":"internal error","type":"server_error","code":500}})");
    }
    if (w.streaming_) w.broken_ = true;  // a stream the handler never ended cannot be reused
    if (w.broken_ || !w.keep_alive_ || stopping_.load()) {
      close_connection(std::move(job.connection));
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      returned_.push_back(std::move(job.connection));
    }
    wake();
  }
}

}  // namespace dseek::server
