#include "chat/jinja/lexer.h"

#include <string_view>

#include "chat/jinja/js_text.h"
#include "chat/jinja/value.h"

namespace dseek::jinja {

const char* token_type_name(TokenType t) {
  switch (t) {
    case TokenType::kText: return "Text";
    case TokenType::kNumericLiteral: return "NumericLiteral";
    case TokenType::kStringLiteral: return "StringLiteral";
    case TokenType::kIdentifier: return "Identifier";
    case TokenType::kEquals: return "Equals";
    case TokenType::kOpenParen: return "OpenParen";
    case TokenType::kCloseParen: return "CloseParen";
    case TokenType::kOpenStatement: return "OpenStatement";
    case TokenType::kCloseStatement: return "CloseStatement";
    case TokenType::kOpenExpression: return "OpenExpression";
    case TokenType::kCloseExpression: return "CloseExpression";
    case TokenType::kOpenSquareBracket: return "OpenSquareBracket";
    case TokenType::kCloseSquareBracket: return "CloseSquareBracket";
    case TokenType::kOpenCurlyBracket: return "OpenCurlyBracket";
    case TokenType::kCloseCurlyBracket: return "CloseCurlyBracket";
    case TokenType::kComma: return "Comma";
    case TokenType::kDot: return "Dot";
    case TokenType::kColon: return "Colon";
    case TokenType::kPipe: return "Pipe";
    case TokenType::kAdditiveBinaryOperator: return "AdditiveBinaryOperator";
    case TokenType::kMultiplicativeBinaryOperator: return "MultiplicativeBinaryOperator";
    case TokenType::kExponentiationBinaryOperator: return "ExponentiationBinaryOperator";
    case TokenType::kComparisonBinaryOperator: return "ComparisonBinaryOperator";
    case TokenType::kUnaryOperator: return "UnaryOperator";
    case TokenType::kComment: return "Comment";
  }
  return "?";
}

namespace {

struct Rule {
  std::string_view seq;
  TokenType type;
};

// Order matters: longer operators before their prefixes.
constexpr Rule kRules[] = {
    {"{%", TokenType::kOpenStatement},
    {"%}", TokenType::kCloseStatement},
    {"{{", TokenType::kOpenExpression},
    {"}}", TokenType::kCloseExpression},
    {"(", TokenType::kOpenParen},
    {")", TokenType::kCloseParen},
    {"{", TokenType::kOpenCurlyBracket},
    {"}", TokenType::kCloseCurlyBracket},
    {"[", TokenType::kOpenSquareBracket},
    {"]", TokenType::kCloseSquareBracket},
    {",", TokenType::kComma},
    {".", TokenType::kDot},
    {":", TokenType::kColon},
    {"|", TokenType::kPipe},
    {"<=", TokenType::kComparisonBinaryOperator},
    {">=", TokenType::kComparisonBinaryOperator},
    {"==", TokenType::kComparisonBinaryOperator},
    {"!=", TokenType::kComparisonBinaryOperator},
    {"<", TokenType::kComparisonBinaryOperator},
    {">", TokenType::kComparisonBinaryOperator},
    {"+", TokenType::kAdditiveBinaryOperator},
    {"-", TokenType::kAdditiveBinaryOperator},
    {"~", TokenType::kAdditiveBinaryOperator},
    {"**", TokenType::kExponentiationBinaryOperator},
    {"*", TokenType::kMultiplicativeBinaryOperator},
    {"//", TokenType::kMultiplicativeBinaryOperator},
    {"/", TokenType::kMultiplicativeBinaryOperator},
    {"%", TokenType::kMultiplicativeBinaryOperator},
    {"=", TokenType::kEquals},
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

class Lexer {
 public:
  explicit Lexer(const std::string& src) : src_(src) {}

  std::vector<Token> run() {
    while (pos_ < src_.size()) step();
    return std::move(tokens_);
  }

 private:
  const std::string& src_;
  size_t pos_ = 0;
  int curly_depth_ = 0;
  std::vector<Token> tokens_;

  [[noreturn]] void error(std::string message, size_t at) const { throw Failure{std::move(message), at, true}; }

  char at(size_t i) const { return i < src_.size() ? src_[i] : '\0'; }
  bool starts(std::string_view seq) const { return src_.compare(pos_, seq.size(), seq) == 0; }
  void push(TokenType type, std::string value, size_t offset) { tokens_.push_back({type, std::move(value), offset}); }

  // Bytes of the /\s/ code point at i, or 0.
  size_t space_at(size_t i) const {
    if (i >= src_.size()) return 0;
    size_t next = i;
    return js::is_space(js::decode_utf8(src_, next)) ? next - i : 0;
  }

  // The reference's consumeWhile fails when a token runs to the end of input.
  void check_not_at_end(size_t start) const {
    if (pos_ >= src_.size()) error("Unexpected end of input", start);
  }

  void consume_whitespace() {
    const size_t start = pos_;
    while (size_t n = space_at(pos_)) {
      pos_ += n;
      check_not_at_end(start);
    }
  }

  std::string consume_digits() {
    const size_t start = pos_;
    while (pos_ < src_.size() && is_digit(src_[pos_])) {
      ++pos_;
      check_not_at_end(start);
    }
    return src_.substr(start, pos_ - start);
  }

  void strip_trailing_whitespace() {
    if (tokens_.empty() || tokens_.back().type != TokenType::kText) return;
    std::string& text = tokens_.back().value;
    text = js::trim(text, false, true);
    if (text.empty()) tokens_.pop_back();
  }

  void skip_leading_whitespace() {
    while (size_t n = space_at(pos_)) pos_ += n;
  }

  void step() {
    const TokenType* last = tokens_.empty() ? nullptr : &tokens_.back().type;
    if (last == nullptr || *last == TokenType::kCloseStatement || *last == TokenType::kCloseExpression ||
        *last == TokenType::kComment) {
      const size_t start = pos_;
      while (pos_ < src_.size() &&
             !(src_[pos_] == '{' && (at(pos_ + 1) == '%' || at(pos_ + 1) == '{' || at(pos_ + 1) == '#')))
        ++pos_;
      if (pos_ > start) {
        push(TokenType::kText, src_.substr(start, pos_ - start), start);
        return;
      }
    }

    if (starts("{#")) {
      lex_comment();
      return;
    }
    if (starts("{%-")) {
      strip_trailing_whitespace();
      push(TokenType::kOpenStatement, "{%", pos_);
      pos_ += 3;
      return;
    }
    if (starts("{{-")) {
      strip_trailing_whitespace();
      push(TokenType::kOpenExpression, "{{", pos_);
      curly_depth_ = 0;
      pos_ += 3;
      return;
    }

    consume_whitespace();

    if (starts("-%}")) {
      push(TokenType::kCloseStatement, "%}", pos_);
      pos_ += 3;
      skip_leading_whitespace();
      return;
    }
    if (starts("-}}")) {
      push(TokenType::kCloseExpression, "}}", pos_);
      pos_ += 3;
      skip_leading_whitespace();
      return;
    }

    const char c = src_[pos_];
    if (c == '-' || c == '+') {
      const TokenType* prev = tokens_.empty() ? nullptr : &tokens_.back().type;
      if (prev == nullptr || *prev == TokenType::kText) error(std::string("Unexpected character: ") + c, pos_);
      const bool binary = *prev == TokenType::kIdentifier || *prev == TokenType::kNumericLiteral ||
                          *prev == TokenType::kStringLiteral || *prev == TokenType::kCloseParen ||
                          *prev == TokenType::kCloseSquareBracket;
      if (!binary) {
        const size_t start = pos_++;
        std::string num = consume_digits();
        if (!num.empty() && at(pos_) == '.' && is_digit(at(pos_ + 1))) {
          ++pos_;
          num += '.';
          num += consume_digits();
        }
        push(num.empty() ? TokenType::kUnaryOperator : TokenType::kNumericLiteral, std::string(1, c) + num, start);
        return;
      }
    }

    for (const Rule& rule : kRules) {
      if (rule.seq == "}}" && curly_depth_ > 0) continue;
      if (!starts(rule.seq)) continue;
      push(rule.type, std::string(rule.seq), pos_);
      if (rule.type == TokenType::kOpenExpression) curly_depth_ = 0;
      if (rule.type == TokenType::kOpenCurlyBracket) ++curly_depth_;
      if (rule.type == TokenType::kCloseCurlyBracket) --curly_depth_;
      pos_ += rule.seq.size();
      return;
    }

    if (c == '\'' || c == '"') {
      lex_string(c);
      return;
    }
    if (is_digit(c)) {
      const size_t start = pos_;
      std::string num = consume_digits();
      const bool after_dot = !tokens_.empty() && tokens_.back().type == TokenType::kDot;
      if (!after_dot && at(pos_) == '.' && is_digit(at(pos_ + 1))) {
        ++pos_;
        num += '.';
        num += consume_digits();
      }
      push(TokenType::kNumericLiteral, num, start);
      return;
    }
    if (js::is_word_byte(c)) {
      const size_t start = pos_;
      while (pos_ < src_.size() && js::is_word_byte(src_[pos_])) {
        ++pos_;
        check_not_at_end(start);
      }
      push(TokenType::kIdentifier, src_.substr(start, pos_ - start), start);
      return;
    }
    size_t next = pos_;
    const char32_t cp = js::decode_utf8(src_, next);
    std::string shown;
    js::append_utf8(cp, shown);
    error("Unexpected character: " + shown, pos_);
  }

  void lex_comment() {
    const size_t start = pos_;
    pos_ += 2;
    const bool strip_before = at(pos_) == '-';
    if (strip_before) ++pos_;
    const size_t body = pos_;
    while (at(pos_) != '#' || at(pos_ + 1) != '}') {
      if (pos_ + 2 >= src_.size()) error("Missing end of comment tag", start);
      ++pos_;
    }
    std::string comment = src_.substr(body, pos_ - body);
    const bool strip_after = !comment.empty() && comment.back() == '-';
    if (strip_after) comment.pop_back();
    if (strip_before) strip_trailing_whitespace();
    push(TokenType::kComment, std::move(comment), start);
    pos_ += 2;
    if (strip_after) skip_leading_whitespace();
  }

  void lex_string(char quote) {
    const size_t start = pos_++;
    std::string out;
    char32_t pending_high = 0;  // a \uD8xx waiting for its low half
    auto flush_pending = [&] {
      if (pending_high != 0) js::append_utf8(0xFFFD, out);
      pending_high = 0;
    };
    for (;;) {
      if (pos_ >= src_.size()) error("Unexpected end of input", start);
      const char c = src_[pos_];
      if (c == quote) break;
      if (c != '\\') {
        flush_pending();
        out += c;
        ++pos_;
        if (pos_ >= src_.size()) error("Unexpected end of input", start);
        continue;
      }
      const size_t escape_at = pos_;
      ++pos_;
      if (pos_ >= src_.size()) error("Unexpected end of input", start);
      const char e = src_[pos_++];
      if (e == 'x' || e == 'u') {
        const size_t len = e == 'x' ? 2 : 4;
        const std::string hex = src_.substr(pos_, len);
        bool ok = hex.size() == len;
        for (char h : hex) ok = ok && is_hex(h);
        if (!ok) error("Invalid hexadecimal escape sequence: \\" + std::string(1, e) + hex, escape_at);
        const auto unit = static_cast<char32_t>(std::stoul(hex, nullptr, 16));
        pos_ += len;
        if (unit >= 0xDC00 && unit <= 0xDFFF && pending_high != 0) {
          js::append_utf8(0x10000 + ((pending_high - 0xD800) << 10) + (unit - 0xDC00), out);
          pending_high = 0;
          continue;
        }
        flush_pending();
        if (unit >= 0xD800 && unit <= 0xDBFF) {
          pending_high = unit;
        } else {
          js::append_utf8(unit, out);  // a lone low half becomes U+FFFD
        }
        continue;
      }
      flush_pending();
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'v': out += '\v'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        default: {
          size_t next = pos_ - 1;
          const char32_t cp = js::decode_utf8(src_, next);
          std::string shown;
          js::append_utf8(cp, shown);
          error("Unexpected escaped character: " + shown, escape_at);
        }
      }
    }
    flush_pending();
    push(TokenType::kStringLiteral, std::move(out), start);
    ++pos_;
  }
};

}  // namespace

std::vector<Token> tokenize(const Source& source) { return Lexer(source.text).run(); }

}  // namespace dseek::jinja
