// The syntax tree, node for node the reference's (ast.ts), so that the
// evaluator can follow the reference's evaluation order and quirks. Every
// node keeps the offset of its token for error messages and its depth, which
// the parser bounds so that evaluation and destruction cannot exhaust the stack.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace dseek::jinja {

struct Node;
using NodePtr = std::unique_ptr<Node>;
using NodeList = std::vector<NodePtr>;

enum class NodeKind {
  // statements
  kProgram,
  kIf,
  kFor,
  kBreak,
  kContinue,
  kSet,
  kMacro,
  kCallBlock,    // {% call(args) macro(...) %}...{% endcall %}
  kFilterBlock,  // {% filter f %}...{% endfilter %}
  kComment,
  // expressions (text between tags is a kStringLiteral, as in the reference)
  kIntegerLiteral,
  kFloatLiteral,
  kStringLiteral,
  kArrayLiteral,
  kTupleLiteral,
  kObjectLiteral,
  kIdentifier,
  kMember,
  kCall,
  kBinary,
  kUnary,
  kFilter,
  kTest,
  kSelect,   // `a if cond` without else
  kTernary,
  kSlice,
  kKeywordArgument,
  kSpread,         // *args
  kKeywordSpread,  // **kwargs
};

enum class BinaryOp { kAnd, kOr, kEq, kNe, kLt, kGt, kLe, kGe, kIn, kNotIn, kAdd, kSub, kConcat, kMul, kDiv, kFloorDiv, kMod, kPow };

struct Node {
  NodeKind kind;
  size_t offset = 0;  // into Source::text
  int depth = 1;      // 1 + deepest child

  // Generic children; their meaning depends on the kind (see comments).
  NodePtr a, b, c;
  NodeList list, list2, list3;
  std::string text;    // identifier name, string value, operator spelling
  double number = 0;   // numeric literals
  BinaryOp op = BinaryOp::kAdd;
  bool flag = false;   // kMember: computed (x[...]); kTest: negated; kCallBlock: has caller params

  Node(NodeKind k, size_t off) : kind(k), offset(off) {}
};

// Field use by kind:
//   kProgram       list = body
//   kIf            a = test, list = body, list2 = alternate
//   kFor           a = loop variable (identifier or tuple), b = iterable, list = body, list2 = else block
//   kSet           a = target, b = value (null for a block set), list = block body
//   kMacro         a = name (identifier), list = parameters, list2 = body
//   kCallBlock     a = call (kCall), list = caller parameters, list2 = body
//   kFilterBlock   a = filter (identifier or call), list = body
//   kArrayLiteral, kTupleLiteral: list = items;  kObjectLiteral: list = keys, list2 = values
//   kMember        a = object, b = property;  kCall a = callee, list = arguments
//   kBinary        a, b, op (text = spelling);  kUnary a, text = "not" / "-" / "+"
//   kFilter        a = operand, b = filter (identifier or call)
//   kTest          a = operand, text = test name, flag = negated
//   kSelect        a = value, b = test;  kTernary a = condition, b = if true, c = if false
//   kSlice         a, b, c = start, stop, step (each may be null)
//   kKeywordArgument  text = key, a = value;  kSpread / kKeywordSpread  a = argument

}  // namespace dseek::jinja
