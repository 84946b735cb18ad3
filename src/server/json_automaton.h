// A byte-at-a-time JSON recognizer for constrained decoding: it answers
// "can this byte continue a text that is still a prefix of valid JSON?" and
// "is the text so far a complete JSON document?". Its whole state is a few
// bytes, so the token masker (token_constraint.h) can copy it freely while it
// walks the vocabulary.
//
// Stricter than RFC 8259 where that keeps the output parseable by every
// common parser and keeps a sampling model from running away:
//  - strings must be valid UTF-8, and an escaped surrogate (\uD800-\uDFFF)
//    must be a high one followed at once by an escaped low one (strict
//    parsers refuse unpaired surrogates);
//  - nesting is limited to kMaxDepth, numbers to kMaxNumberBytes and
//    exponents to kMaxExponentDigits (so no number overflows a double, which
//    strict parsers refuse), runs of whitespace to kMaxWhitespaceRun.
#pragma once

#include <cstdint>
#include <string_view>

namespace dseek::server {

class JsonAutomaton {
 public:
  static constexpr int kMaxDepth = 48;
  static constexpr int kMaxNumberBytes = 32;
  static constexpr int kMaxExponentDigits = 2;
  static constexpr int kMaxWhitespaceRun = 24;

  // object_only: the document must be an object (response_format
  // json_object, tool arguments); otherwise any JSON value.
  explicit JsonAutomaton(bool object_only = true);

  // Consumes one byte; false (and the state unchanged) if it cannot continue.
  bool feed(uint8_t byte);
  bool feed(std::string_view bytes);  // false at the first byte that cannot continue

  // The text so far is a whole document (only whitespace may follow).
  bool complete() const { return mode_ == Mode::kDone; }
  // Container nesting right now.
  int depth() const { return depth_; }
  // The fewest bytes that complete the document from here (closing the
  // string, escape or number in progress, then every open container). The
  // token masker uses it to finish the document before max_tokens runs out.
  int distance() const;

  bool operator==(const JsonAutomaton&) const = default;
  uint64_t hash() const;

 private:
  enum class Mode : uint8_t {
    kStart,            // before the document
    kValue,            // a value must come
    kArrayFirst,       // after '[': a value or ']'
    kObjectFirst,      // after '{': a key or '}'
    kObjectKey,        // after ',' in an object: a key
    kColon,            // after a key
    kAfterValue,       // ',' or the closing bracket of the container
    kString,           // inside a string (key_ says which kind)
    kNumber,
    kLiteral,          // true / false / null
    kDone,
  };
  // Sub-states of a number: what has been read so far.
  enum NumberPhase : uint8_t { kMinus, kZero, kInt, kDot, kFrac, kExp, kExpSign, kExpDigits };

  bool feed_string(uint8_t b);
  bool feed_number(uint8_t b, bool& reprocess);
  bool begin_value(uint8_t b);
  void value_done();
  bool in_object() const { return depth_ > 0 && ((stack_ >> (depth_ - 1)) & 1) != 0; }

  uint64_t stack_ = 0;        // bit i: level i is an object (1) or an array (0)
  Mode mode_ = Mode::kStart;
  uint8_t depth_ = 0;
  bool object_only_ = true;
  bool key_ = false;          // kString: the string is an object key
  uint8_t escape_ = 0;        // kString: 0 none, 1 after '\', 2..14 reading \uXXXX (see feed_string)
  uint8_t utf8_left_ = 0;     // kString: continuation bytes still expected
  uint8_t utf8_lo_ = 0x80, utf8_hi_ = 0xBF;  // range of the next continuation byte
  uint8_t phase_ = 0;         // kNumber: NumberPhase; kLiteral: which literal
  uint8_t count_ = 0;         // kNumber: bytes read; kLiteral: bytes matched
  uint8_t ws_run_ = 0;        // consecutive whitespace bytes
  uint8_t exp_digits_ = 0;    // kNumber: digits of the exponent so far
};

}  // namespace dseek::server
