// The pre-tokenizer: cuts normalized text into the pieces ("pre-tokens")
// that BPE encodes one at a time. Built from the steps of a tokenizer.json
// pre_tokenizer (Split, Digits, ByteLevel, in a Sequence) or from a
// llama.cpp pre-tokenizer name (tokenizer_parts.h).
#pragma once

#include <deque>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tokenizer/regex.h"
#include "util/result.h"

namespace dseek {

// What a Split does with the text its pattern matches (HF's
// SplitDelimiterBehavior; for "the-final--countdown" split on '-'):
enum class SplitBehavior {
  kRemoved,             // the, final, countdown
  kIsolated,            // the, -, final, -, -, countdown
  kMergedWithPrevious,  // the-, final-, -, countdown
  kMergedWithNext,      // the, -final, -, -countdown
  kContiguous,          // the, -, final, --, countdown
};

struct SplitStep {
  std::string pattern;
  bool is_regex = true;  // false: a literal string
  SplitBehavior behavior = SplitBehavior::kIsolated;
  bool invert = false;   // the pieces between matches are the "matches"
};

// Maps bytes to GPT-2's byte-level alphabet. dseek keeps pieces as raw bytes
// and converts the vocabulary instead, so this step only (optionally) adds a
// leading space and splits with the GPT-2 regex. It must be the last step.
struct ByteLevelStep {
  bool add_prefix_space = false;
  bool use_regex = true;
};

using PreTokenizerStep = std::variant<SplitStep, ByteLevelStep>;

class PreTokenizer {
 public:
  PreTokenizer() = default;
  static Result<PreTokenizer> build(const std::vector<PreTokenizerStep>& steps);

  // Appends the pre-tokens of text (valid UTF-8) to pieces. A piece views
  // text or, where a step made new text (a prefix space), a string kept in
  // storage.
  Status split(std::string_view text, std::vector<std::string_view>& pieces, std::deque<std::string>& storage) const;

  // True when the last step is ByteLevel: BPE then sees every byte as a symbol.
  bool byte_level() const { return byte_level_; }

 private:
  struct Step {
    std::vector<Regex> regex;  // empty for a literal or for a ByteLevel without regex
    std::string literal;
    SplitBehavior behavior = SplitBehavior::kIsolated;
    bool invert = false;
    bool is_byte_level = false;
    bool add_prefix_space = false;
  };
  std::vector<Step> steps_;
  bool byte_level_ = false;
};

// The pattern ByteLevel uses when use_regex is true (GPT-2's).
extern const char* const kGpt2Pattern;

}  // namespace dseek
