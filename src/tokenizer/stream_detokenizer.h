// Turns token ids into text as they are generated. A token can end in the
// middle of a UTF-8 character (byte-level BPE splits multi-byte characters;
// byte-fallback tokens such as <0xE4> carry one byte each), so the bytes of
// an unfinished character are held back until the tokens that complete it
// arrive. What is emitted is always valid UTF-8, and the concatenation of
// everything emitted (including flush()) equals Tokenizer::decode of all the
// ids without clean-up.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "tokenizer/tokenizer.h"

namespace dseek {

class StreamDetokenizer {
 public:
  // Keeps its own handle on the tokenizer (a shared, immutable object).
  explicit StreamDetokenizer(Tokenizer tokenizer, bool skip_special_tokens = false)
      : tokenizer_(std::move(tokenizer)), skip_special_(skip_special_tokens) {}

  // The text that became complete with this token (possibly empty).
  std::string push(int32_t id);
  // Whatever is still held, with an unfinished character as U+FFFD; resets.
  std::string flush();
  // Bytes held back (0..3).
  size_t pending() const { return held_.size(); }

 private:
  Tokenizer tokenizer_;
  bool skip_special_;
  std::string held_;
};

}  // namespace dseek
