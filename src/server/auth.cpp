#include "server/auth.h"

#include <arpa/inet.h>

#include <fstream>
#include <sstream>

#include "util/hash.h"

namespace dseek::server {

bool constant_time_equal(std::string_view known, std::string_view presented) {
  // Different lengths still cost a full pass over `known`.
  volatile uint8_t diff = known.size() == presented.size() ? 0 : 1;
  const size_t n = presented.size();
  for (size_t i = 0; i < known.size(); ++i) {
    const uint8_t p = n > 0 ? static_cast<uint8_t>(presented[i % n]) : 0;
    diff = diff | static_cast<uint8_t>(static_cast<uint8_t>(known[i]) ^ p);
  }
  return diff == 0;
}

Result<ApiKeys> ApiKeys::from_text(std::string_view text, const std::string& source) {
  ApiKeys keys;
  size_t start = 0, line_no = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;
    // The key itself never appears in a message.
    if (line.size() < 16)
      return Error{source + ": line " + std::to_string(line_no) + ": an API key needs at least 16 characters"};
    for (char c : line)
      if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f)
        return Error{source + ": line " + std::to_string(line_no) +
                     ": an API key may hold only printable ASCII without spaces"};
    keys.keys_.emplace_back(line);
  }
  if (keys.keys_.empty()) return Error{source + ": no API keys in the file"};
  return keys;
}

Result<ApiKeys> ApiKeys::from_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{path + ": cannot read the API key file"};
  std::stringstream ss;
  ss << in.rdbuf();
  return from_text(ss.str(), path);
}

std::optional<size_t> ApiKeys::match(std::string_view authorization) const {
  std::string_view presented = authorization;
  constexpr std::string_view kBearer = "Bearer ";
  if (presented.size() >= kBearer.size() && presented.substr(0, kBearer.size()) == kBearer)
    presented.remove_prefix(kBearer.size());
  else
    presented = {};
  std::optional<size_t> found;
  for (size_t i = 0; i < keys_.size(); ++i)
    if (constant_time_equal(keys_[i], presented) && !found) found = i;
  return found;
}

std::string ApiKeys::cache_namespace(size_t index) const {
  // A hash of the key: stable across restarts and reorderings, not the key.
  const uint64_t h = fnv1a(keys_[index], fnv1a("dseek-api-key-namespace"));
  char buf[24];
  std::snprintf(buf, sizeof buf, "key-%016llx", static_cast<unsigned long long>(h));
  return buf;
}

bool is_loopback_host(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

}  // namespace dseek::server
