#include "server/http/http_request.h"

#include <algorithm>
#include <cctype>

namespace dseek::server {

namespace {

// RFC 9110 tchar: the characters of methods and header names.
bool is_tchar(unsigned char c) {
  if (std::isalnum(c)) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// True if the comma-separated list holds `token` (case-insensitive).
bool list_has(std::string_view list, std::string_view token) {
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string_view::npos) end = list.size();
    if (lower(trim(list.substr(start, end - start))) == token) return true;
    start = end + 1;
  }
  return false;
}

constexpr size_t kMaxChunkLine = 1024;
constexpr size_t kMaxTrailerBytes = 8 * 1024;

}  // namespace

const std::string* HttpRequest::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers)
    if (name == lower_name) return &value;
  return nullptr;
}

HttpRequestReader::State HttpRequestReader::fail(int status, std::string message) {
  phase_ = Phase::kError;
  error_status_ = status;
  error_message_ = std::move(message);
  return State::kError;
}

HttpRequest HttpRequestReader::take() {
  HttpRequest out = std::move(request_);
  request_ = HttpRequest{};
  phase_ = Phase::kHead;
  scan_ = pos_ = body_length_ = trailer_bytes_ = 0;
  body_expected_ = false;
  return out;
}

HttpRequestReader::State HttpRequestReader::parse_head(std::string_view head) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < head.size()) {
    size_t nl = head.find('\n', start);
    if (nl == std::string_view::npos) nl = head.size();
    std::string_view line = head.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find('\r') != std::string_view::npos) return fail(400, "a bare CR in the request head");
    lines.push_back(line);
    start = nl + 1;
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  if (lines.empty()) return fail(400, "empty request");

  // request-line = method SP request-target SP HTTP-version
  const std::string_view line = lines[0];
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return fail(400, "malformed request line");
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (method.empty() || method.size() > 16 || !std::all_of(method.begin(), method.end(), [](char c) {
        return is_tchar(static_cast<unsigned char>(c));
      }))
    return fail(400, "malformed method");
  if (target.size() > limits_.max_target_bytes) return fail(414, "request target too long");
  if (target.empty() || std::any_of(target.begin(), target.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u <= 0x20 || u == 0x7f;
      }))
    return fail(400, "malformed request target");
  if (target[0] != '/' && !(target == "*" && method == "OPTIONS"))
    return fail(400, "the request target must be a path");
  if (version == "HTTP/1.1") {
    request_.minor_version = 1;
  } else if (version == "HTTP/1.0") {
    request_.minor_version = 0;
  } else if (version.size() == 8 && version.substr(0, 5) == "HTTP/") {
    return fail(505, "HTTP version not supported");
  } else {
    return fail(400, "malformed HTTP version");
  }
  request_.method = std::string(method);
  request_.target = std::string(target);
  const size_t q = target.find('?');
  request_.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) request_.query = std::string(target.substr(q + 1));

  if (lines.size() - 1 > limits_.max_headers) return fail(431, "too many header fields");
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string_view h = lines[i];
    if (h.empty()) return fail(400, "empty header line");
    if (h[0] == ' ' || h[0] == '\t') return fail(400, "folded header lines are not accepted");
    const size_t colon = h.find(':');
    if (colon == std::string_view::npos || colon == 0) return fail(400, "malformed header field");
    const std::string_view name = h.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), [](char c) { return is_tchar(static_cast<unsigned char>(c)); }))
      return fail(400, "malformed header name");
    const std::string_view value = trim(h.substr(colon + 1));
    if (std::any_of(value.begin(), value.end(), [](char c) {
          const auto u = static_cast<unsigned char>(c);
          return (u < 0x20 && u != '\t') || u == 0x7f;
        }))
      return fail(400, "control character in header value");
    request_.headers.emplace_back(lower(name), std::string(value));
  }

  // Framing of the body. Both lengths at once, or two different lengths, is
  // how requests get smuggled past proxies: refuse.
  bool has_length = false;
  size_t length = 0;
  bool chunked = false;
  for (const auto& [name, value] : request_.headers) {
    if (name == "content-length") {
      if (value.empty() || value.size() > 18 || !std::all_of(value.begin(), value.end(), [](char c) {
            return c >= '0' && c <= '9';
          }))
        return fail(400, "malformed Content-Length");
      const size_t v = std::stoull(value);
      if (has_length && v != length) return fail(400, "conflicting Content-Length headers");
      has_length = true;
      length = v;
    } else if (name == "transfer-encoding") {
      if (chunked || lower(value) != "chunked") return fail(501, "only the chunked transfer coding is supported");
      chunked = true;
    }
  }
  if (has_length && chunked) return fail(400, "both Content-Length and Transfer-Encoding");
  if (has_length && length > limits_.max_body_bytes)
    return fail(413, "request body of " + std::to_string(length) + " bytes exceeds the limit of " +
                         std::to_string(limits_.max_body_bytes));

  const std::string* connection = request_.header("connection");
  if (request_.minor_version == 0)
    request_.keep_alive = connection != nullptr && list_has(*connection, "keep-alive");
  else
    request_.keep_alive = connection == nullptr || !list_has(*connection, "close");
  if (const std::string* expect = request_.header("expect")) {
    if (lower(*expect) != "100-continue") return fail(417, "unsupported expectation");
    request_.expect_continue = request_.minor_version == 1;
  }

  if (chunked) {
    body_expected_ = true;
    phase_ = Phase::kChunkSize;
  } else if (has_length && length > 0) {
    body_expected_ = true;
    body_length_ = length;
    phase_ = Phase::kBodyLength;
  } else {
    phase_ = Phase::kDone;
  }
  return State::kNeedMore;
}

HttpRequestReader::State HttpRequestReader::read_chunked(std::string& buffer) {
  for (;;) {
    const size_t avail = buffer.size() - pos_;
    switch (phase_) {
      case Phase::kChunkSize: {
        const size_t nl = buffer.find('\n', pos_);
        if (nl == std::string::npos) {
          if (avail > kMaxChunkLine) return fail(400, "chunk size line too long");
          return State::kNeedMore;
        }
        if (nl - pos_ > kMaxChunkLine) return fail(400, "chunk size line too long");
        std::string_view line(buffer.data() + pos_, nl - pos_);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        const size_t ext = line.find(';');
        const std::string_view digits = trim(line.substr(0, ext));
        if (digits.empty() || !std::all_of(digits.begin(), digits.end(), [](char c) {
              return std::isxdigit(static_cast<unsigned char>(c)) != 0;
            }))
          return fail(400, "malformed chunk size");
        if (digits.size() > 12) return fail(413, "chunk too large");
        const size_t size = std::stoull(std::string(digits), nullptr, 16);
        pos_ = nl + 1;
        if (size == 0) {
          phase_ = Phase::kTrailers;
          break;
        }
        if (request_.body.size() + size > limits_.max_body_bytes)
          return fail(413, "request body exceeds the limit of " + std::to_string(limits_.max_body_bytes) + " bytes");
        body_length_ = size;
        phase_ = Phase::kChunkData;
        break;
      }
      case Phase::kChunkData: {
        if (avail == 0) return State::kNeedMore;
        const size_t take = std::min(avail, body_length_);
        request_.body.append(buffer, pos_, take);
        pos_ += take;
        body_length_ -= take;
        if (body_length_ == 0) phase_ = Phase::kChunkDataEnd;
        break;
      }
      case Phase::kChunkDataEnd:
        if (avail == 0) return State::kNeedMore;
        if (buffer[pos_] == '\n') {
          pos_ += 1;
        } else if (buffer[pos_] == '\r') {
          if (avail < 2) return State::kNeedMore;
          if (buffer[pos_ + 1] != '\n') return fail(400, "malformed chunk end");
          pos_ += 2;
        } else {
          return fail(400, "malformed chunk end");
        }
        phase_ = Phase::kChunkSize;
        break;
      case Phase::kTrailers: {
        const size_t nl = buffer.find('\n', pos_);
        if (nl == std::string::npos) {
          if (trailer_bytes_ + avail > kMaxTrailerBytes) return fail(431, "trailer section too large");
          return State::kNeedMore;
        }
        trailer_bytes_ += nl + 1 - pos_;
        if (trailer_bytes_ > kMaxTrailerBytes) return fail(431, "trailer section too large");
        std::string_view line(buffer.data() + pos_, nl - pos_);
        pos_ = nl + 1;
        if (line == "" || line == "\r") {
          phase_ = Phase::kDone;
          return State::kDone;
        }
        break;
      }
      default:
        return fail(500, "internal error: bad chunked state");
    }
  }
}

HttpRequestReader::State HttpRequestReader::read(std::string& buffer) {
  if (phase_ == Phase::kError) return State::kError;
  if (phase_ == Phase::kDone) return State::kDone;
  if (phase_ == Phase::kHead) {
    // Empty lines before a request line are skipped (RFC 9112 section 2.2).
    size_t skip = 0;
    while (scan_ == 0 && skip < buffer.size() && (buffer[skip] == '\r' || buffer[skip] == '\n')) ++skip;
    if (skip > 0) buffer.erase(0, skip);
    size_t end = 0;
    size_t i = scan_;
    for (; i < buffer.size(); ++i) {
      if (buffer[i] != '\n') continue;
      if (i + 1 >= buffer.size()) break;
      if (buffer[i + 1] == '\n') {
        end = i + 2;
        break;
      }
      if (buffer[i + 1] == '\r') {
        if (i + 2 >= buffer.size()) break;
        if (buffer[i + 2] == '\n') {
          end = i + 3;
          break;
        }
      }
    }
    // Too large: 414 when the request line alone is, else 431.
    auto too_large = [&] {
      const size_t first_nl = buffer.find('\n');
      if (first_nl == std::string::npos || first_nl > limits_.max_target_bytes + 32)
        return fail(414, "request line too long");
      return fail(431, "request head too large");
    };
    if (end == 0) {
      scan_ = i;
      if (buffer.size() > limits_.max_head_bytes) return too_large();
      return State::kNeedMore;
    }
    if (end > limits_.max_head_bytes) return too_large();
    const std::string head = buffer.substr(0, end);
    buffer.erase(0, end);
    if (parse_head(head) == State::kError) return State::kError;
  }
  State state = State::kNeedMore;
  if (phase_ == Phase::kDone) {
    state = State::kDone;
  } else if (phase_ == Phase::kBodyLength) {
    if (buffer.size() >= body_length_) {
      request_.body = buffer.substr(0, body_length_);
      buffer.erase(0, body_length_);
      phase_ = Phase::kDone;
      state = State::kDone;
    }
  } else {
    state = read_chunked(buffer);
    buffer.erase(0, pos_);
    pos_ = 0;
  }
  return state;
}

}  // namespace dseek::server
