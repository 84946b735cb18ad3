// Recursive-descent parser with the reference's grammar and operator
// precedence (parser.ts): lowest first, `a if b else c`, or, and, not,
// comparisons and membership (one level, left to right), + - ~, * / // %, **,
// `is` tests, | filters, unary signs, calls / member access / slices, primaries.
#pragma once

#include <vector>

#include "chat/jinja/ast.h"
#include "chat/jinja/lexer.h"

namespace dseek::jinja {

struct ParseLimits {
  int max_nesting = 100;     // nested blocks, brackets and unary operators while parsing
  int max_tree_depth = 1000; // depth of the finished tree (long operator chains count)
};

// Throws Failure (located) on a syntax error or when a limit is exceeded.
NodePtr parse(const std::vector<Token>& tokens, size_t end_offset, const ParseLimits& limits);

}  // namespace dseek::jinja
