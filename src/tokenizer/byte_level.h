// GPT-2's byte-level alphabet: every byte 0..255 is shown as one printable
// Unicode character, so that byte-level BPE vocabularies are plain strings
// (a space is "Ġ", a newline "Ċ"). Vocabulary files store tokens in this
// form; dseek converts them back to raw bytes once at load.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dseek::byte_level {

// The character that stands for a byte.
char32_t char_for_byte(uint8_t b);

// The byte a character stands for, if it is one of the 256.
std::optional<uint8_t> byte_for_char(char32_t c);

// "Ġhello" -> " hello". nullopt if a character is not in the alphabet
// (or the text is not valid UTF-8).
std::optional<std::string> decode(std::string_view token);

// " hello" -> "Ġhello".
std::string encode(std::string_view bytes);

}  // namespace dseek::byte_level
