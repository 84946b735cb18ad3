// API keys: read from a file (one per line; blank lines and lines starting
// with '#' are ignored), checked in constant time, never logged. Requests
// name the caller by the key's position in the file ("key 2"); the prefix
// cache isolates callers by a namespace derived from the key itself, so a
// reordered file keeps each caller's cache and no caller ever sees another's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace dseek::server {

class ApiKeys {
 public:
  ApiKeys() = default;
  static Result<ApiKeys> from_file(const std::string& path);
  static Result<ApiKeys> from_text(std::string_view text, const std::string& source);

  bool empty() const { return keys_.empty(); }
  size_t size() const { return keys_.size(); }

  // The index of the key the Authorization header carries ("Bearer KEY"),
  // or nullopt. Every configured key is compared, over its whole length,
  // whatever the header holds: the time taken does not depend on how much
  // of a key matched.
  std::optional<size_t> match(std::string_view authorization) const;

  // A name for the caller's prefix-cache namespace (not the key).
  std::string cache_namespace(size_t index) const;

 private:
  std::vector<std::string> keys_;
};

// Constant-time comparison of a presented secret with a known one: runs over
// the known one's length whatever `presented` holds.
bool constant_time_equal(std::string_view known, std::string_view presented);

// True for addresses that only this machine can reach (127.0.0.0/8, ::1,
// "localhost"): the only ones dseek serves without API keys.
bool is_loopback_host(const std::string& host);

}  // namespace dseek::server
