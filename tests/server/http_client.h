// A deliberately simple HTTP/1.1 client for server tests: raw bytes out,
// one response in (Content-Length, chunked, or until close), with timeouts.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace dseek::testing {

struct HttpResponse {
  int status = 0;  // 0: no response (connection closed or timed out)
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
  std::string body;  // de-chunked
  std::string header(const std::string& name) const;
};

class HttpClient {
 public:
  explicit HttpClient(int port);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool send_raw(const std::string& bytes);
  // Reads one response; status 0 if none arrived within the timeout.
  HttpResponse read_response(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // True if the server closed the connection within the timeout.
  bool closed_by_server(std::chrono::milliseconds timeout);
  void close();

  // One request on this connection: method, path, body (JSON), extra headers.
  HttpResponse request(const std::string& method, const std::string& path, const std::string& body = "",
                       const std::vector<std::string>& headers = {});

 private:
  bool fill(std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  std::string buffer_;
};

// Parses the "data: ..." events of an SSE body.
std::vector<std::string> sse_events(const std::string& body);

}  // namespace dseek::testing
