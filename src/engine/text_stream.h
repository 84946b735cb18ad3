// Text-level pieces of generation that work on the streamed text, whatever
// the tokenizer: stop strings (emit nothing that might become a stop string,
// cut exactly before one), and the split of an R1-style answer into
// reasoning and content at </think>.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dseek {

class StopStringMatcher {
 public:
  explicit StopStringMatcher(std::vector<std::string> stops);
  // Text that can be shown now; holds back a tail that may start a stop string.
  std::string feed(std::string_view text);
  // The held-back tail, at the end of generation (nothing after a stop).
  std::string flush();
  bool stopped() const { return stopped_; }

 private:
  std::vector<std::string> stops_;
  std::string pending_;
  bool stopped_ = false;
};

// Reasoning models (DeepSeek-R1) think first: their chat template ends the
// prompt with "<think>\n", so output is reasoning until "</think>", then the
// answer. Models whose prompt did not open the block may open it themselves;
// an empty block ("\n\n</think>") gives empty reasoning; a model that never
// closes it leaves everything in reasoning. Leading and trailing whitespace of
// each part is dropped, so no part starts or ends with the newlines around the tags.
class ReasoningSplitter {
 public:
  struct Delta {
    std::string reasoning;
    std::string content;
  };
  explicit ReasoningSplitter(bool starts_in_reasoning);
  Delta feed(std::string_view text);
  Delta flush();
  bool in_reasoning() const { return state_ == State::kReasoning; }

 private:
  enum class State { kMaybeOpen, kReasoning, kContent };
  void step(Delta& out, bool final);
  State state_;
  std::string pending_;            // not yet classified
  std::string held_whitespace_;    // reasoning whitespace that may turn out to be trailing
  bool reasoning_started_ = false;  // a non-whitespace reasoning character was emitted
  bool content_started_ = false;
};

}  // namespace dseek
