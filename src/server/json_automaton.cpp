#include "server/json_automaton.h"

#include "util/hash.h"

namespace dseek::server {

namespace {

bool is_ws(uint8_t b) { return b == ' ' || b == '\t' || b == '\n' || b == '\r'; }
bool is_digit(uint8_t b) { return b >= '0' && b <= '9'; }
bool is_hex(uint8_t b) { return is_digit(b) || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F'); }

constexpr std::string_view kLiterals[3] = {"true", "false", "null"};

}  // namespace

JsonAutomaton::JsonAutomaton(bool object_only) : object_only_(object_only) {}

uint64_t JsonAutomaton::hash() const {
  const uint8_t bytes[] = {static_cast<uint8_t>(mode_), depth_, object_only_, key_,      escape_,  utf8_left_,
                           utf8_lo_,                    utf8_hi_, phase_,     count_,    ws_run_,
                           exp_digits_};
  return fnv1a(bytes, sizeof bytes, fnv1a(&stack_, sizeof stack_));
}

int JsonAutomaton::distance() const {
  const int closers = depth_;
  switch (mode_) {
    case Mode::kDone: return 0;
    case Mode::kStart: return 2;                 // {}
    case Mode::kValue: return 1 + closers;       // 0
    case Mode::kArrayFirst:
    case Mode::kObjectFirst:
    case Mode::kAfterValue: return closers;
    case Mode::kObjectKey: return 4 + closers;   // "":0
    case Mode::kColon: return 2 + closers;       // :0
    case Mode::kLiteral: return static_cast<int>(kLiterals[phase_].size()) - count_ + closers;
    case Mode::kNumber: {
      const bool can_end = phase_ == kZero || phase_ == kInt || phase_ == kFrac || phase_ == kExpDigits;
      return (can_end ? 0 : 1) + closers;
    }
    case Mode::kString: {
      int pending = utf8_left_;
      // Bytes that finish an escape in progress (see feed_string for the states).
      if (escape_ == 1) pending = 1;
      else if (escape_ == 2) pending = 4;
      else if (escape_ == 3 || escape_ == 4) pending = 3;  // 4: after 'D', 0..7 is the short way
      else if (escape_ == 5 || escape_ == 6) pending = 7 - escape_;
      else if (escape_ >= 7) pending = 15 - escape_;
      return pending + 1 + (key_ ? 2 : 0) + closers;  // the quote, then :0 after a key
    }
  }
  return closers;
}

bool JsonAutomaton::feed(std::string_view bytes) {
  for (char c : bytes)
    if (!feed(static_cast<uint8_t>(c))) return false;
  return true;
}

void JsonAutomaton::value_done() {
  mode_ = depth_ == 0 ? Mode::kDone : Mode::kAfterValue;
}

bool JsonAutomaton::begin_value(uint8_t b) {
  if (object_only_ && mode_ == Mode::kStart && b != '{') return false;
  switch (b) {
    case '{':
    case '[':
      if (depth_ >= kMaxDepth) return false;
      if (b == '{')
        stack_ |= uint64_t{1} << depth_;
      else
        stack_ &= ~(uint64_t{1} << depth_);
      ++depth_;
      mode_ = b == '{' ? Mode::kObjectFirst : Mode::kArrayFirst;
      return true;
    case '"':
      mode_ = Mode::kString;
      key_ = false;
      escape_ = 0;
      utf8_left_ = 0;
      return true;
    case '-':
      mode_ = Mode::kNumber;
      phase_ = kMinus;
      count_ = 1;
      exp_digits_ = 0;
      return true;
    case 't':
    case 'f':
    case 'n':
      mode_ = Mode::kLiteral;
      phase_ = b == 't' ? 0 : b == 'f' ? 1 : 2;
      count_ = 1;
      return true;
    default:
      if (!is_digit(b)) return false;
      mode_ = Mode::kNumber;
      phase_ = b == '0' ? kZero : kInt;
      count_ = 1;
      exp_digits_ = 0;
      return true;
  }
}

// \uXXXX is read in escape_ states 2..6: 2 the first hex digit; 3 the
// second (4 when the first was 'D', where 8..B starts a high surrogate and
// C..F would be a lone low one); 5 and 6 the last two. A high surrogate
// (7, 8 for its last digits) must be followed at once by an escaped low
// one: 9 '\\', 10 'u', 11 'D', 12 C..F, 13 and 14 its last digits. So the
// text never holds an unpaired surrogate, which strict parsers refuse.
bool JsonAutomaton::feed_string(uint8_t b) {
  if (escape_ == 1) {
    switch (b) {
      case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        escape_ = 0;
        return true;
      case 'u':
        escape_ = 2;
        return true;
      default:
        return false;
    }
  }
  if (escape_ >= 2) {
    switch (escape_) {
      case 9: if (b != '\\') return false; escape_ = 10; return true;
      case 10: if (b != 'u') return false; escape_ = 11; return true;
      case 11: if (b != 'd' && b != 'D') return false; escape_ = 12; return true;
      case 12:
        if (!((b >= 'c' && b <= 'f') || (b >= 'C' && b <= 'F'))) return false;
        escape_ = 13;
        return true;
      default: break;
    }
    if (!is_hex(b)) return false;
    switch (escape_) {
      case 2: escape_ = (b == 'd' || b == 'D') ? 4 : 3; return true;
      case 3: escape_ = 5; return true;
      case 4:
        if (is_digit(b)) {
          if (b >= '8') {
            escape_ = 7;  // D8, D9: a high surrogate
            return true;
          }
          escape_ = 5;
          return true;
        }
        if (b == 'a' || b == 'A' || b == 'b' || b == 'B') {
          escape_ = 7;
          return true;
        }
        return false;  // DC..DF: a low surrogate with no high one before it
      case 5: escape_ = 6; return true;
      case 7: escape_ = 8; return true;
      case 8: escape_ = 9; return true;
      case 13: escape_ = 14; return true;
      default: escape_ = 0; return true;  // 6 and 14: the escape is complete
    }
  }
  if (utf8_left_ > 0) {
    if (b < utf8_lo_ || b > utf8_hi_) return false;
    --utf8_left_;
    utf8_lo_ = 0x80;
    utf8_hi_ = 0xBF;
    return true;
  }
  if (b == '"') {
    if (key_) {
      mode_ = Mode::kColon;
    } else {
      value_done();
    }
    return true;
  }
  if (b == '\\') {
    escape_ = 1;
    return true;
  }
  if (b < 0x20) return false;  // control characters must be escaped
  if (b < 0x80) return true;
  // The first byte of a multi-byte character fixes how many follow and, for
  // a few leads, a narrower range for the next byte (no overlong forms, no
  // surrogates, nothing above U+10FFFF).
  utf8_lo_ = 0x80;
  utf8_hi_ = 0xBF;
  if (b >= 0xC2 && b <= 0xDF) {
    utf8_left_ = 1;
  } else if (b >= 0xE0 && b <= 0xEF) {
    utf8_left_ = 2;
    if (b == 0xE0) utf8_lo_ = 0xA0;
    if (b == 0xED) utf8_hi_ = 0x9F;
  } else if (b >= 0xF0 && b <= 0xF4) {
    utf8_left_ = 3;
    if (b == 0xF0) utf8_lo_ = 0x90;
    if (b == 0xF4) utf8_hi_ = 0x8F;
  } else {
    return false;
  }
  return true;
}

// A number ends at the first byte that cannot extend it; that byte is then
// read again in the state after the value (reprocess).
bool JsonAutomaton::feed_number(uint8_t b, bool& reprocess) {
  reprocess = false;
  const bool digit = is_digit(b);
  uint8_t next = 0xFF;
  switch (phase_) {
    case kMinus: if (digit) next = b == '0' ? kZero : kInt; break;
    case kZero: if (b == '.') next = kDot; else if (b == 'e' || b == 'E') next = kExp; break;
    case kInt: if (digit) next = kInt; else if (b == '.') next = kDot; else if (b == 'e' || b == 'E') next = kExp; break;
    case kDot: if (digit) next = kFrac; break;
    case kFrac: if (digit) next = kFrac; else if (b == 'e' || b == 'E') next = kExp; break;
    case kExp: if (digit) next = kExpDigits; else if (b == '+' || b == '-') next = kExpSign; break;
    case kExpSign: if (digit) next = kExpDigits; break;
    case kExpDigits: if (digit && exp_digits_ < kMaxExponentDigits) next = kExpDigits; break;
  }
  if (next != 0xFF) {
    if (count_ >= kMaxNumberBytes) return false;
    exp_digits_ = next == kExpDigits ? exp_digits_ + 1 : 0;
    phase_ = next;
    ++count_;
    return true;
  }
  const bool can_end = phase_ == kZero || phase_ == kInt || phase_ == kFrac || phase_ == kExpDigits;
  if (!can_end || depth_ == 0) return false;  // a bare top-level number has no end mark
  reprocess = true;
  return true;
}

bool JsonAutomaton::feed(uint8_t b) {
  const JsonAutomaton saved = *this;
  auto fail = [&] {
    *this = saved;
    return false;
  };

  if (mode_ == Mode::kString) return feed_string(b) || fail();
  if (mode_ == Mode::kNumber) {
    bool reprocess = false;
    if (!feed_number(b, reprocess)) return fail();
    if (!reprocess) return true;
    value_done();  // the byte that ended the number is read below
  }
  if (mode_ == Mode::kLiteral) {
    const std::string_view lit = kLiterals[phase_];
    if (b != static_cast<uint8_t>(lit[count_])) return fail();
    if (++count_ == lit.size()) value_done();
    return true;
  }

  if (is_ws(b)) {
    if (ws_run_ >= kMaxWhitespaceRun) return fail();
    ++ws_run_;
    return true;
  }
  ws_run_ = 0;

  switch (mode_) {
    case Mode::kStart:
    case Mode::kValue:
      return begin_value(b) || fail();
    case Mode::kArrayFirst:
      if (b == ']') {
        --depth_;
        value_done();
        return true;
      }
      return begin_value(b) || fail();
    case Mode::kObjectFirst:
    case Mode::kObjectKey:
      if (b == '}' && mode_ == Mode::kObjectFirst) {
        --depth_;
        value_done();
        return true;
      }
      if (b != '"') return fail();
      mode_ = Mode::kString;
      key_ = true;
      escape_ = 0;
      utf8_left_ = 0;
      return true;
    case Mode::kColon:
      if (b != ':') return fail();
      mode_ = Mode::kValue;
      return true;
    case Mode::kAfterValue:
      if (b == ',') {
        mode_ = in_object() ? Mode::kObjectKey : Mode::kValue;
        return true;
      }
      if (b == (in_object() ? '}' : ']')) {
        --depth_;
        value_done();
        return true;
      }
      return fail();
    case Mode::kDone:
    default:
      return fail();
  }
}

}  // namespace dseek::server
