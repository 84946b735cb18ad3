#include "chat/jinja/source.h"

#include "chat/jinja/js_text.h"

namespace dseek::jinja {

namespace {

// Text with the original offset of every byte.
struct Mapped {
  std::string s;
  std::vector<uint32_t> o;
  void push(char c, uint32_t origin) {
    s += c;
    o.push_back(origin);
  }
};

// Length of the ECMAScript LineTerminator starting at s[i], or 0.
size_t line_terminator_at(const std::string& s, size_t i) {
  if (s[i] == '\n' || s[i] == '\r') return 1;
  if (i + 2 < s.size() + 0 && static_cast<unsigned char>(s[i]) == 0xE2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
      (static_cast<unsigned char>(s[i + 2]) == 0xA8 || static_cast<unsigned char>(s[i + 2]) == 0xA9))
    return 3;
  return 0;
}

// lstrip_blocks: /^[ \t]*({[#%-])/gm -> "$1".
Mapped lstrip_blocks(const Mapped& in) {
  Mapped out;
  const std::string& s = in.s;
  bool line_start = true;
  for (size_t i = 0; i < s.size();) {
    if (line_start) {
      size_t q = i;
      while (q < s.size() && (s[q] == ' ' || s[q] == '\t')) ++q;
      if (q + 1 < s.size() && s[q] == '{' && (s[q + 1] == '#' || s[q + 1] == '%' || s[q + 1] == '-')) i = q;
      line_start = false;
    }
    const size_t term = line_terminator_at(s, i);
    const size_t n = term > 0 ? term : 1;
    for (size_t k = 0; k < n; ++k) out.push(s[i + k], in.o[i + k]);
    i += n;
    line_start = term > 0;
  }
  out.o.push_back(in.o.back());
  return out;
}

// trim_blocks: /([#%-]})\n/g -> "$1".
Mapped trim_blocks(const Mapped& in) {
  Mapped out;
  const std::string& s = in.s;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' && i >= 2 && s[i - 1] == '}' && (s[i - 2] == '#' || s[i - 2] == '%' || s[i - 2] == '-')) continue;
    out.push(s[i], in.o[i]);
  }
  out.o.push_back(in.o.back());
  return out;
}

// Length of the /\s/ code point starting at i, or 0.
size_t space_at(const std::string& s, size_t i) {
  size_t next = i;
  return js::is_space(js::decode_utf8(s, next)) ? next - i : 0;
}

// Length of the /\s/ code point ending at i (exclusive), or 0.
size_t space_before(const std::string& s, size_t i) {
  size_t start = i - 1;
  while (start > 0 && i - start < 4 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
  size_t next = start;
  const char32_t cp = js::decode_utf8(s, next);
  return next == i && js::is_space(cp) ? i - start : 0;
}

// If a {% generation %} / {% endgeneration %} tag starts at i, its end;
// strip flags say whether it carries {%- and -%}.
size_t generation_tag_at(const std::string& s, size_t i, bool& lstrip, bool& rstrip) {
  if (s.compare(i, 2, "{%") != 0) return 0;
  size_t p = i + 2;
  lstrip = p < s.size() && s[p] == '-';
  if (lstrip) ++p;
  while (p < s.size()) {
    const size_t n = space_at(s, p);
    if (n == 0) break;
    p += n;
  }
  if (s.compare(p, 3, "end") == 0 && s.compare(p + 3, 10, "generation") == 0) p += 3;
  if (s.compare(p, 10, "generation") != 0) return 0;
  p += 10;
  while (p < s.size()) {
    const size_t n = space_at(s, p);
    if (n == 0) break;
    p += n;
  }
  rstrip = p < s.size() && s[p] == '-';
  if (rstrip) ++p;
  if (s.compare(p, 2, "%}") != 0) return 0;
  return p + 2;
}

// /(\s*){%(-?)\s*(?:end)?generation\s*(-?)%}(\s*)/gs -> (lstrip ? "" : $1) + (rstrip ? "" : $4).
Mapped remove_generation_tags(const Mapped& in) {
  const std::string& s = in.s;
  if (s.find("generation") == std::string::npos) return in;
  Mapped out;
  size_t emitted = 0;  // s[0, emitted) is decided
  for (size_t i = 0; i < s.size(); ++i) {
    bool lstrip = false, rstrip = false;
    const size_t end = s[i] == '{' ? generation_tag_at(s, i, lstrip, rstrip) : 0;
    if (end == 0) continue;
    size_t before = i;
    while (before > emitted) {
      const size_t n = space_before(s, before);
      if (n == 0 || before - n < emitted) break;
      before -= n;
    }
    size_t after = end;
    while (after < s.size()) {
      const size_t n = space_at(s, after);
      if (n == 0) break;
      after += n;
    }
    for (size_t k = emitted; k < before; ++k) out.push(s[k], in.o[k]);
    if (!lstrip)
      for (size_t k = before; k < i; ++k) out.push(s[k], in.o[k]);
    if (!rstrip)
      for (size_t k = end; k < after; ++k) out.push(s[k], in.o[k]);
    emitted = after;
    i = after - 1;
  }
  for (size_t k = emitted; k < s.size(); ++k) out.push(s[k], in.o[k]);
  out.o.push_back(in.o.back());
  return out;
}

}  // namespace

Source preprocess(std::string_view original) {
  Mapped m;
  m.s.assign(original);
  m.o.resize(original.size() + 1);
  for (size_t i = 0; i <= original.size(); ++i) m.o[i] = static_cast<uint32_t>(i);
  if (!m.s.empty() && m.s.back() == '\n') {
    m.s.pop_back();
    m.o.erase(m.o.end() - 2);
  }
  m = lstrip_blocks(m);
  m = trim_blocks(m);
  m = remove_generation_tags(m);
  Source src;
  src.original.assign(original);
  src.text = std::move(m.s);
  src.origin = std::move(m.o);
  return src;
}

size_t Source::original_offset(size_t offset) const {
  if (origin.empty()) return 0;
  return origin[offset < origin.size() ? offset : origin.size() - 1];
}

void Source::line_column(size_t offset, size_t& line, size_t& column) const {
  const size_t target = original_offset(offset);
  line = 1;
  column = 1;
  for (size_t i = 0; i < target && i < original.size();) {
    if (original[i] == '\n') {
      ++line;
      column = 1;
      ++i;
      continue;
    }
    js::decode_utf8(original, i);
    ++column;
  }
}

}  // namespace dseek::jinja
