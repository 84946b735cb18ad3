// Reading HTTP/1.1 requests from a connection's bytes, with hard limits, as
// they arrive: the request head (request line and headers, RFC 9112) and a
// body framed by Content-Length or chunked transfer coding. Everything the
// client sends is untrusted; anything malformed, ambiguous (both
// Content-Length and Transfer-Encoding, conflicting lengths, folded
// headers) or too large is refused with the status that says why, never
// guessed at. Pure code over a byte buffer: the server feeds it, the fuzzer
// (fuzz/http_request_fuzzer.cpp) feeds it anything.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dseek::server {

struct HttpLimits {
  size_t max_head_bytes = 16 * 1024;       // request line + headers
  size_t max_target_bytes = 8 * 1024;      // the request-target alone (414 beyond)
  size_t max_headers = 64;
  size_t max_body_bytes = 4 * 1024 * 1024;
};

struct HttpRequest {
  std::string method;
  std::string target;  // as sent
  std::string path;    // target before '?'
  std::string query;   // after '?', without it
  int minor_version = 1;
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case, values trimmed
  std::string body;
  bool keep_alive = true;
  bool expect_continue = false;

  // The first header of that (lower-case) name, or nullptr.
  const std::string* header(std::string_view lower_name) const;
};

class HttpRequestReader {
 public:
  enum class State { kNeedMore, kDone, kError };

  explicit HttpRequestReader(HttpLimits limits) : limits_(limits) {}

  // Reads as much of one request as `buffer` holds (bytes received so far,
  // not yet consumed). kDone: the request is complete, its bytes are removed
  // from the buffer (what follows belongs to the next request) and take()
  // hands it over. kError: error_status()/error_message() say why; the
  // connection must be closed after answering.
  State read(std::string& buffer);

  // The head has been read (the body, if any, has not).
  bool head_done() const { return phase_ != Phase::kHead; }
  // The client waits for "100 Continue" before sending its body.
  bool wants_continue() const { return head_done() && request_.expect_continue && body_expected_; }

  HttpRequest take();  // and resets for the next request

  int error_status() const { return error_status_; }
  const std::string& error_message() const { return error_message_; }

 private:
  enum class Phase { kHead, kBodyLength, kChunkSize, kChunkData, kChunkDataEnd, kTrailers, kDone, kError };

  State fail(int status, std::string message);
  State parse_head(std::string_view head);
  State read_chunked(std::string& buffer);

  HttpLimits limits_;
  Phase phase_ = Phase::kHead;
  HttpRequest request_;
  size_t scan_ = 0;          // kHead: bytes of the buffer already searched for the end of the head
  size_t body_length_ = 0;   // kBodyLength: Content-Length; chunked: the current chunk's size
  size_t pos_ = 0;           // chunked: bytes of the buffer already decoded
  bool body_expected_ = false;
  size_t trailer_bytes_ = 0;
  int error_status_ = 0;
  std::string error_message_;
};

}  // namespace dseek::server
