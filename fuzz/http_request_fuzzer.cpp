// Feeds arbitrary bytes to the HTTP request reader the way a connection
// does: in pieces whose sizes come from the input itself, reading requests
// one after another (pipelining). Checks what the reader promises: it never
// keeps more than the head limit while the head is incomplete, a finished
// request's body respects the body limit, and an error carries a 4xx/5xx.
#include <cstddef>
#include <cstdint>
#include <string>

#include "server/http/http_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using dseek::server::HttpRequestReader;
  dseek::server::HttpLimits limits;
  limits.max_head_bytes = 2048;
  limits.max_target_bytes = 512;
  limits.max_headers = 16;
  limits.max_body_bytes = 4096;
  HttpRequestReader reader(limits);
  std::string buffer;
  size_t pos = 0;
  // The first byte picks the piece size, so splits are explored too.
  const size_t piece = size > 0 ? 1 + data[0] % 64 : 1;
  while (pos < size) {
    const size_t n = std::min(piece, size - pos);
    buffer.append(reinterpret_cast<const char*>(data + pos), n);
    pos += n;
    for (;;) {
      const auto state = reader.read(buffer);
      if (state == HttpRequestReader::State::kError) {
        if (reader.error_status() < 400 || reader.error_status() > 599) __builtin_trap();
        return 0;
      }
      if (state == HttpRequestReader::State::kNeedMore) {
        if (!reader.head_done() && buffer.size() > limits.max_head_bytes + 64) __builtin_trap();
        break;
      }
      const auto request = reader.take();
      if (request.body.size() > limits.max_body_bytes) __builtin_trap();
      if (request.path.empty() || (request.path[0] != '/' && request.path != "*")) __builtin_trap();
    }
  }
  return 0;
}
