// The tokenizer.json "decoder": how each token turns back into bytes.
// Supported steps (all work token by token, which is what lets dseek
// precompute every token's bytes and stream them): ByteLevel (GPT-2 alphabet
// back to bytes), ByteFallback (<0xHH> tokens to their byte), Replace (a
// literal string), Strip (leading/trailing copies of a character) and Fuse
// as the last step (concatenation, which dseek always does).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace dseek {

struct DecoderStep {
  enum class Kind { kByteLevel, kByteFallback, kFuse, kReplace, kStrip };
  Kind kind = Kind::kByteLevel;
  std::string pattern, content;  // Replace: pattern -> content; Strip: content (one character)
  int start = 0, stop = 0;       // Strip: how many to remove at each end
};

class Decoder {
 public:
  Decoder() = default;
  static Result<Decoder> build(std::vector<DecoderStep> steps);

  // The bytes one token contributes to decoded text.
  std::string token_bytes(std::string_view token) const;

 private:
  std::vector<DecoderStep> steps_;
};

}  // namespace dseek
