// The regular expressions of tokenizer.json pre-tokenizers, run by PCRE2
// (UTF + Unicode properties + JIT).
//
// Hugging Face's tokenizers compiles these patterns with Oniguruma, whose
// syntax differs from PCRE2's in a few places that the real patterns use;
// translate_pattern() rewrites them (see regex.cpp) and refuses constructs it
// cannot translate faithfully, so a pattern either means the same thing or is
// an error that names it.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.h"

namespace dseek {

struct RegexMatch {
  size_t start, end;  // byte offsets in the subject
};

class Regex {
 public:
  // Compiles an Oniguruma-syntax pattern (as written in tokenizer.json).
  static Result<Regex> compile(std::string_view pattern);

  // Every match in subject, left to right, non-overlapping, with Oniguruma's
  // rule for empty matches (one right after the previous match is skipped).
  // The subject must be valid UTF-8; lookarounds see only the subject.
  // Fails only if PCRE2 gives up (match limit), naming the pattern.
  Status find_all(std::string_view subject, std::vector<RegexMatch>& out) const;

  // Whether the pattern matches at the very start of subject (anchored).
  bool matches_at_start(std::string_view subject) const;

  const std::string& pattern() const { return pattern_; }

 private:
  struct Code;
  Regex(std::string pattern, std::shared_ptr<const Code> code) : pattern_(std::move(pattern)), code_(std::move(code)) {}
  std::string pattern_;              // as given, for messages
  std::shared_ptr<const Code> code_;  // compiled; shared, immutable
};

// The PCRE2 pattern with the same meaning as an Oniguruma pattern.
Result<std::string> translate_pattern(std::string_view onig_pattern);

}  // namespace dseek
