#include "tokenizer/stream_detokenizer.h"

#include "tokenizer/utf8.h"

namespace dseek {

std::string StreamDetokenizer::push(int32_t id) {
  held_ += tokenizer_.decode_bytes(std::span<const int32_t>(&id, 1), skip_special_);
  size_t keep = utf8::incomplete_tail(held_);
  // Everything before the unfinished tail is final: bytes that can never
  // become valid are replaced now, exactly as decode() would replace them.
  std::string out = utf8::sanitize(std::string_view(held_).substr(0, held_.size() - keep));
  held_.erase(0, held_.size() - keep);
  return out;
}

std::string StreamDetokenizer::flush() {
  std::string out = utf8::sanitize(held_);
  held_.clear();
  return out;
}

}  // namespace dseek
