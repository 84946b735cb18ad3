// UTF-8 helpers for the tokenizer: decoding one code point, repairing invalid
// input the way the references do, and finding where a byte stream can be cut
// without splitting a character.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dseek::utf8 {

inline constexpr char32_t kReplacement = 0xFFFD;

// Appends the UTF-8 encoding of a Unicode scalar value.
void append(std::string& out, char32_t cp);

// Length in bytes of the valid UTF-8 sequence starting at s[i], or 0 if the
// bytes there are not a complete, valid sequence.
size_t sequence_length(std::string_view s, size_t i);

// Decodes the valid sequence at s[i] (its length from sequence_length).
char32_t decode_at(std::string_view s, size_t i, size_t length);

// True if every byte belongs to a well-formed UTF-8 sequence.
bool is_valid(std::string_view s);

// Replaces each maximal invalid subpart with U+FFFD, exactly as the WHATWG
// Encoding Standard's decoder (JavaScript TextDecoder) and Rust's
// String::from_utf8_lossy do. Valid input comes back unchanged.
std::string sanitize(std::string_view s);

// Number of trailing bytes of s that form the start of a valid sequence that
// is not yet complete (0..3): the bytes a streaming decoder must hold back.
size_t incomplete_tail(std::string_view s);

}  // namespace dseek::utf8
