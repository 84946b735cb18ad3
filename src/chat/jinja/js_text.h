// Text and number primitives with the semantics of JavaScript, because the
// reference renderer (@huggingface/jinja, the one transformers.js uses) is
// written in it: its numbers are doubles printed by Number.prototype.toString,
// its strings are UTF-16 (length and indexing count code units), and its
// whitespace is ECMAScript's. dseek's strings are UTF-8; these helpers give
// the same answers on them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dseek::jinja::js {

// Number::toString(10): shortest round-trip digits, "1e+21", "1e-7", "NaN".
std::string number_to_string(double v);

// How the reference prints a float value: integral values keep one decimal
// ("1.0", "-0.0"), others as number_to_string.
std::string float_to_string(double v);

// ECMAScript WhiteSpace or LineTerminator (what trim() and /\s/ remove).
bool is_space(char32_t c);

// Decodes the code point at s[i] and advances i; a byte that does not start a
// valid UTF-8 sequence decodes as U+FFFD and advances by one.
char32_t decode_utf8(std::string_view s, size_t& i);
void append_utf8(char32_t c, std::string& out);

// String.prototype.length: UTF-16 code units.
size_t utf16_length(std::string_view s);

// String.prototype.at(index) (negative counts from the end), on UTF-16 code
// units; half of a surrogate pair is a lone surrogate, which Node writes to
// UTF-8 as U+FFFD, so that is what is returned. false when out of range.
bool char_at(std::string_view s, double index, std::string& out);

std::string trim(std::string_view s, bool start, bool end);

// toUpperCase/toLowerCase: Unicode case mapping (the C library's tables of
// its built-in C.UTF-8 locale, with JavaScript's special cases: "ß" -> "SS",
// final sigma, ...). Only ASCII changes if that locale is missing.
std::string to_upper(std::string_view s);
std::string to_lower(std::string_view s);

// ToNumber(string), as used by the loose equality operator (== on a number
// and a string). NaN when the text is not a number.
double string_to_number(std::string_view s);

// parseInt(s, 10) and parseFloat(s): a leading numeric prefix, NaN if none.
double parse_int(std::string_view s);
double parse_float(std::string_view s);

// /\w/ for one byte.
inline bool is_word_byte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

}  // namespace dseek::jinja::js
