#include "tokenizer/decoder.h"

#include "tokenizer/byte_level.h"
#include "tokenizer/utf8.h"

namespace dseek {

Result<Decoder> Decoder::build(std::vector<DecoderStep> steps) {
  for (size_t i = 0; i < steps.size(); ++i) {
    const DecoderStep& s = steps[i];
    // After Fuse, a step would see the whole text as one token; only a final
    // Fuse is per-token.
    if (s.kind == DecoderStep::Kind::kFuse && i + 1 != steps.size())
      return Error{"decoder: steps after Fuse are not supported"};
    if (s.kind == DecoderStep::Kind::kReplace && s.pattern.empty())
      return Error{"decoder: Replace with an empty pattern"};
    if (s.kind == DecoderStep::Kind::kStrip &&
        (s.start < 0 || s.stop < 0 || !utf8::is_valid(s.content) || s.content.empty() ||
         utf8::sequence_length(s.content, 0) != s.content.size()))
      return Error{"decoder: Strip needs one character as content and non-negative start/stop"};
  }
  Decoder d;
  d.steps_ = std::move(steps);
  return d;
}

namespace {

std::string replace_all(std::string_view s, const std::string& from, const std::string& to) {
  std::string out;
  size_t pos = 0;
  for (size_t at = s.find(from); at != std::string_view::npos; at = s.find(from, pos)) {
    out.append(s.substr(pos, at - pos));
    out += to;
    pos = at + from.size();
  }
  out.append(s.substr(pos));
  return out;
}

// "<0x0A>" -> 0x0A, as HF's ByteFallback decoder reads them.
bool parse_byte_token(std::string_view t, char& byte) {
  if (t.size() != 6 || t.substr(0, 3) != "<0x" || t[5] != '>') return false;
  int value = 0;
  for (char c : t.substr(3, 2)) {
    int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (d < 0) return false;
    value = value * 16 + d;
  }
  byte = static_cast<char>(value);
  return true;
}

std::string strip(std::string_view t, const DecoderStep& s) {
  std::string_view c = s.content;
  for (int k = 0; k < s.start && t.substr(0, c.size()) == c; ++k) t.remove_prefix(c.size());
  for (int k = 0; k < s.stop && t.size() >= c.size() && t.substr(t.size() - c.size()) == c; ++k)
    t.remove_suffix(c.size());
  return std::string(t);
}

}  // namespace

std::string Decoder::token_bytes(std::string_view token) const {
  std::string t(token);
  for (const DecoderStep& s : steps_) {
    switch (s.kind) {
      case DecoderStep::Kind::kByteLevel: {
        // HF keeps a token whose characters are not all in the alphabet as
        // its own UTF-8 (added tokens such as "<｜User｜>").
        auto raw = byte_level::decode(t);
        if (raw) t = std::move(*raw);
        break;
      }
      case DecoderStep::Kind::kByteFallback: {
        char byte;
        if (parse_byte_token(t, byte)) t.assign(1, byte);
        break;
      }
      case DecoderStep::Kind::kFuse: break;
      case DecoderStep::Kind::kReplace: t = replace_all(t, s.pattern, s.content); break;
      case DecoderStep::Kind::kStrip: t = strip(t, s); break;
    }
  }
  return t;
}

}  // namespace dseek
