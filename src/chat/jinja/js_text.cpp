#include "chat/jinja/js_text.h"

#include <charconv>
#include <cmath>
#include <clocale>
#include <cstdlib>
#include <cwctype>
#include <limits>

#include <locale.h>
#include <wctype.h>

namespace dseek::jinja::js {

std::string number_to_string(double v) {
  if (std::isnan(v)) return "NaN";
  if (v == 0) return "0";  // also -0
  if (std::isinf(v)) return v < 0 ? "-Infinity" : "Infinity";
  std::string out = v < 0 ? "-" : "";
  // Shortest round-trip digits, as ECMAScript requires; to_chars gives them
  // as d.ddde±x, from which the spec's (digits, exponent) pair follows.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, std::fabs(v), std::chars_format::scientific);
  std::string_view sci(buf, static_cast<size_t>(res.ptr - buf));
  size_t e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e))
    if (c != '.') digits += c;
  int exp10 = 0;
  std::from_chars(sci.data() + e + 1 + (sci[e + 1] == '+' ? 1 : 0), sci.data() + sci.size(), exp10);
  const int k = static_cast<int>(digits.size());
  const int n = exp10 + 1;  // value = 0.d1d2...dk * 10^n
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out += digits.substr(0, static_cast<size_t>(n));
    out += '.';
    out += digits.substr(static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-n), '0');
    out += digits;
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += 'e';
    out += n - 1 >= 0 ? '+' : '-';
    out += std::to_string(std::abs(n - 1));
  }
  return out;
}

std::string float_to_string(double v) {
  if (v == 0 && std::signbit(v)) return "-0.0";
  if (std::isfinite(v) && std::fmod(v, 1.0) == 0) {
    // toFixed(1); it falls back to toString from 1e21 on.
    if (std::fabs(v) >= 1e21) return number_to_string(v);
    char buf[400];
    auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 1);
    return std::string(buf, res.ptr);
  }
  return number_to_string(v);
}

bool is_space(char32_t c) {
  switch (c) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20: case 0xA0: case 0x1680:
    case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000: case 0xFEFF:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

char32_t decode_utf8(std::string_view s, size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  int len = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    ++i;
    return 0xFFFD;
  }
  if (i + static_cast<size_t>(len) > s.size()) {
    ++i;
    return 0xFFFD;
  }
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return 0xFFFD;
  }
  i += static_cast<size_t>(len);
  return cp;
}

void append_utf8(char32_t c, std::string& out) {
  if (c >= 0xD800 && c <= 0xDFFF) c = 0xFFFD;  // a lone surrogate cannot be UTF-8
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

size_t utf16_length(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size();) n += decode_utf8(s, i) >= 0x10000 ? 2 : 1;
  return n;
}

bool char_at(std::string_view s, double index, std::string& out) {
  const double len = static_cast<double>(utf16_length(s));
  if (index < 0) index += len;
  if (!(index >= 0 && index < len)) return false;
  const auto target = static_cast<size_t>(index);
  size_t unit = 0;
  for (size_t i = 0; i < s.size();) {
    const size_t start = i;
    const char32_t cp = decode_utf8(s, i);
    const size_t width = cp >= 0x10000 ? 2 : 1;
    if (target < unit + width) {
      out.clear();
      if (width == 2) {
        append_utf8(0xFFFD, out);
      } else {
        out.assign(s.substr(start, i - start));
      }
      return true;
    }
    unit += width;
  }
  return false;
}

std::string trim(std::string_view s, bool start, bool end) {
  size_t begin = 0;
  size_t stop = s.size();
  if (start) {
    size_t i = 0;
    while (i < s.size()) {
      size_t next = i;
      if (!is_space(decode_utf8(s, next))) break;
      i = next;
    }
    begin = i;
  }
  if (end) {
    size_t last_end = begin;
    for (size_t i = begin; i < s.size();) {
      if (!is_space(decode_utf8(s, i))) last_end = i;
    }
    stop = last_end;
  }
  return std::string(s.substr(begin, stop - begin));
}

namespace {

// Unicode case mapping: the C library's simple (one to one) mappings from its
// built-in C.UTF-8 locale, plus the special cases of JavaScript's full
// mapping that change length or depend on context.
locale_t utf8_locale() {
  static const locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  return loc;
}

char32_t simple_upper(char32_t c) {
  if (c < 0x80) return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
  const locale_t loc = utf8_locale();
  return loc != nullptr ? static_cast<char32_t>(towupper_l(static_cast<wint_t>(c), loc)) : c;
}

char32_t simple_lower(char32_t c) {
  if (c < 0x80) return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
  const locale_t loc = utf8_locale();
  return loc != nullptr ? static_cast<char32_t>(towlower_l(static_cast<wint_t>(c), loc)) : c;
}

// SpecialCasing.txt entries (unconditional) whose upper case is longer.
const char* special_upper(char32_t c) {
  switch (c) {
    case 0x00DF: return "SS";
    case 0x0149: return "\u02BCN";
    case 0x01F0: return "J\u030C";
    case 0x0390: return "\u0399\u0308\u0301";
    case 0x03B0: return "\u03A5\u0308\u0301";
    case 0x0587: return "\u0535\u0552";
    case 0x1E96: return "H\u0331";
    case 0x1E97: return "T\u0308";
    case 0x1E98: return "W\u030A";
    case 0x1E99: return "Y\u030A";
    case 0x1E9A: return "A\u02BE";
    case 0xFB00: return "FF";
    case 0xFB01: return "FI";
    case 0xFB02: return "FL";
    case 0xFB03: return "FFI";
    case 0xFB04: return "FFL";
    case 0xFB05: return "ST";
    case 0xFB06: return "ST";
    default: return nullptr;
  }
}

bool is_cased_letter(char32_t c) { return simple_upper(c) != c || simple_lower(c) != c; }

}  // namespace

std::string to_upper(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      out += b >= 'a' && b <= 'z' ? static_cast<char>(b - 'a' + 'A') : static_cast<char>(b);
      ++i;
      continue;
    }
    const char32_t c = decode_utf8(s, i);
    if (const char* special = special_upper(c)) {
      out += special;
    } else {
      append_utf8(simple_upper(c), out);
    }
  }
  return out;
}

std::string to_lower(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  char32_t prev = 0;
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      out += b >= 'A' && b <= 'Z' ? static_cast<char>(b - 'A' + 'a') : static_cast<char>(b);
      prev = b;
      ++i;
      continue;
    }
    const char32_t c = decode_utf8(s, i);
    if (c == 0x0130) {  // İ -> i + combining dot above
      out += "i\u0307";
    } else if (c == 0x03A3) {
      // Final sigma (simplified): a cased letter just before, none just after.
      bool after = false;
      if (i < s.size()) {
        size_t j = i;
        after = is_cased_letter(decode_utf8(s, j));
      }
      append_utf8(is_cased_letter(prev) && !after ? 0x03C2 : 0x03C3, out);
    } else {
      append_utf8(simple_lower(c), out);
    }
    prev = c;
  }
  return out;
}

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Length of the longest StrUnsignedDecimalLiteral prefix of s (without
// Infinity); 0 when there is none.
size_t decimal_prefix(std::string_view s) {
  size_t i = 0;
  size_t int_digits = 0;
  while (i < s.size() && is_digit(s[i])) ++i, ++int_digits;
  size_t frac_digits = 0;
  if (i < s.size() && s[i] == '.') {
    size_t j = i + 1;
    while (j < s.size() && is_digit(s[j])) ++j, ++frac_digits;
    if (int_digits > 0 || frac_digits > 0) i = j;
  }
  if (int_digits == 0 && frac_digits == 0) return 0;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    size_t j = i + 1;
    if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
    size_t exp_digits = 0;
    while (j < s.size() && is_digit(s[j])) ++j, ++exp_digits;
    if (exp_digits > 0) i = j;
  }
  return i;
}

double parse_decimal(std::string_view s) {
  double v = 0;
  // from_chars does not take a leading '.', strtod would be locale bound.
  std::string text(s);
  if (!text.empty() && text[0] == '.') text.insert(text.begin(), '0');
  auto res = std::from_chars(text.data(), text.data() + text.size(), v);
  // Out of range leaves v alone; strtod rounds to infinity or zero as JS does.
  if (res.ec == std::errc::result_out_of_range) v = std::strtod(text.c_str(), nullptr);
  return v;
}

std::string_view skip_leading_space(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    size_t next = i;
    if (!is_space(decode_utf8(s, next))) break;
    i = next;
  }
  return s.substr(i);
}

}  // namespace

double string_to_number(std::string_view s) {
  const std::string t = trim(s, true, true);
  std::string_view v(t);
  if (v.empty()) return 0;
  if (v.size() > 2 && v[0] == '0') {
    int base = 0;
    if (v[1] == 'x' || v[1] == 'X') base = 16;
    if (v[1] == 'o' || v[1] == 'O') base = 8;
    if (v[1] == 'b' || v[1] == 'B') base = 2;
    if (base != 0) {
      double out = 0;
      for (char c : v.substr(2)) {
        int d = -1;
        if (is_digit(c)) d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        if (d < 0 || d >= base) return kNaN;
        out = out * base + d;
      }
      return out;
    }
  }
  double sign = 1;
  if (v[0] == '+' || v[0] == '-') {
    sign = v[0] == '-' ? -1 : 1;
    v.remove_prefix(1);
  }
  if (v == "Infinity") return sign * kInf;
  const size_t n = decimal_prefix(v);
  if (n == 0 || n != v.size()) return kNaN;
  return sign * parse_decimal(v);
}

double parse_int(std::string_view s) {
  std::string_view v = skip_leading_space(s);
  double sign = 1;
  if (!v.empty() && (v[0] == '+' || v[0] == '-')) {
    sign = v[0] == '-' ? -1 : 1;
    v.remove_prefix(1);
  }
  size_t n = 0;
  while (n < v.size() && is_digit(v[n])) ++n;
  if (n == 0) return kNaN;
  return sign * parse_decimal(v.substr(0, n));
}

double parse_float(std::string_view s) {
  std::string_view v = skip_leading_space(s);
  double sign = 1;
  if (!v.empty() && (v[0] == '+' || v[0] == '-')) {
    sign = v[0] == '-' ? -1 : 1;
    v.remove_prefix(1);
  }
  if (v.substr(0, 8) == "Infinity") return sign * kInf;
  const size_t n = decimal_prefix(v);
  if (n == 0) return kNaN;
  return sign * parse_decimal(v.substr(0, n));
}

}  // namespace dseek::jinja::js
