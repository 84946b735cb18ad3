#include "server/output_assembler.h"

namespace dseek::server {

namespace {

// Length of the well-formed UTF-8 sequence at s[i] (Unicode table 3-7), or 0.
size_t sequence_length(std::string_view s, size_t i) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  if (b0 < 0x80) return 1;
  size_t n = 0;
  uint8_t lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto b = static_cast<uint8_t>(s[i + k]);
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return 0;
  }
  return n;
}

// Bytes of an invalid sequence at s[i] that form one replacement: the lead
// byte plus the continuation bytes that were still acceptable (WHATWG's
// "maximal subpart" rule, as TextDecoder and Hugging Face's decode apply it).
size_t maximal_subpart(std::string_view s, size_t i) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  size_t n = 0;
  uint8_t lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) n = 2;
  else if (b0 >= 0xE0 && b0 <= 0xEF) { n = 3; if (b0 == 0xE0) lo = 0xA0; if (b0 == 0xED) hi = 0x9F; }
  else if (b0 >= 0xF0 && b0 <= 0xF4) { n = 4; if (b0 == 0xF0) lo = 0x90; if (b0 == 0xF4) hi = 0x8F; }
  else return 1;
  size_t k = 1;
  for (; k < n && i + k < s.size(); ++k) {
    const auto b = static_cast<uint8_t>(s[i + k]);
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) break;
  }
  return k;
}

}  // namespace

std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (const size_t n = sequence_length(s, i); n > 0) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out.append("\xEF\xBF\xBD");
      i += maximal_subpart(s, i);
    }
  }
  return out;
}

size_t incomplete_utf8_tail(std::string_view s) {
  for (size_t back = 1; back <= 3 && back <= s.size(); ++back) {
    const size_t i = s.size() - back;
    const auto b = static_cast<uint8_t>(s[i]);
    if (b < 0x80) return 0;
    if (b >= 0xC0) {
      // A lead byte: incomplete if fewer bytes follow than it needs and
      // those that do follow are acceptable so far.
      return maximal_subpart(s, i) == back && sequence_length(s, i) == 0 && (b >= 0xC2 && b <= 0xF4) ? back : 0;
    }
  }
  return 0;
}

OutputAssembler::OutputAssembler(const TextModel& text, AssemblerOptions options)
    : text_(text), options_(std::move(options)), stops_(options_.stop), splitter_(options_.starts_in_reasoning) {}

TokenLogprob OutputAssembler::describe(int32_t token, float logprob) const {
  TokenLogprob t;
  const std::string_view bytes = text_.token_bytes(token);
  t.token = valid_utf8(bytes);
  t.bytes.assign(bytes.begin(), bytes.end());
  t.logprob = logprob;
  return t;
}

void OutputAssembler::emit(std::string text, OutputDelta& out, bool final) {
  std::string shown = stops_.feed(text);
  if (final) shown += stops_.flush();
  if (!options_.split_reasoning) {
    out.content += shown;
    return;
  }
  ReasoningSplitter::Delta d = splitter_.feed(shown);
  out.reasoning += d.reasoning;
  out.content += d.content;
  if (final) {
    d = splitter_.flush();
    out.reasoning += d.reasoning;
    out.content += d.content;
  }
}

OutputDelta OutputAssembler::add(const GenerationEvent& e) {
  OutputDelta out;
  if (options_.logprobs) {
    TokenLogprob t = describe(e.token, e.logprob);
    for (const dseek::TokenLogprob& alt : e.top) t.top.push_back(describe(alt.token, alt.logprob));
    out.logprobs.push_back(std::move(t));
  }
  if (stops_.stopped()) return out;
  const std::string_view bytes = text_.is_special(e.token) ? std::string_view() : text_.token_bytes(e.token);
  if (in_tool_calls_) {
    tool_text_.append(bytes);
    return out;
  }
  if (e.token == options_.tool_calls_begin && options_.tool_calls_begin >= 0) {
    in_tool_calls_ = true;
    tool_text_.assign(bytes);
    if (!held_bytes_.empty()) emit(valid_utf8(std::exchange(held_bytes_, {})), out, false);
    return out;
  }
  if (options_.split_reasoning && splitter_.in_reasoning()) ++reasoning_tokens_;
  held_bytes_.append(bytes);
  const size_t tail = incomplete_utf8_tail(held_bytes_);
  std::string ready = valid_utf8(std::string_view(held_bytes_).substr(0, held_bytes_.size() - tail));
  held_bytes_.erase(0, held_bytes_.size() - tail);
  emit(std::move(ready), out, false);
  return out;
}

OutputDelta OutputAssembler::finish() {
  OutputDelta out;
  emit(valid_utf8(std::exchange(held_bytes_, {})), out, true);
  return out;
}

}  // namespace dseek::server
