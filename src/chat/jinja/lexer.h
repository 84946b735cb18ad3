// Tokens of a preprocessed template, split exactly as the reference's lexer
// splits them (whitespace control, unary minus folded into numbers, string
// escapes), each with its offset so that errors can be located.
#pragma once

#include <string>
#include <vector>

#include "chat/jinja/source.h"

namespace dseek::jinja {

enum class TokenType {
  kText,
  kNumericLiteral,
  kStringLiteral,
  kIdentifier,
  kEquals,
  kOpenParen,
  kCloseParen,
  kOpenStatement,
  kCloseStatement,
  kOpenExpression,
  kCloseExpression,
  kOpenSquareBracket,
  kCloseSquareBracket,
  kOpenCurlyBracket,
  kCloseCurlyBracket,
  kComma,
  kDot,
  kColon,
  kPipe,
  kAdditiveBinaryOperator,        // + - ~
  kMultiplicativeBinaryOperator,  // * / // %
  kExponentiationBinaryOperator,  // **
  kComparisonBinaryOperator,      // < > <= >= == !=
  kUnaryOperator,                 // a sign not followed by digits
  kComment,
};

const char* token_type_name(TokenType t);

struct Token {
  TokenType type;
  std::string value;
  size_t offset;  // into Source::text
};

// Throws Failure (located) on text the reference's lexer rejects.
std::vector<Token> tokenize(const Source& source);

}  // namespace dseek::jinja
