// What the interpreter calls for operators, filters, tests, attributes of
// built-in types and global functions: each the reference's behaviour,
// including which combinations of types are errors.
#pragma once

#include <string>

#include "chat/jinja/ast.h"
#include "chat/jinja/interpreter.h"
#include "chat/jinja/value.h"

namespace dseek::jinja {

// operators.cpp
Value binary_operation(Interpreter& in, BinaryOp op, const std::string& spelling, const Value& left, const Value& right);
Value unary_sign(const std::string& op, const Value& v);
// Ordering used by sort and dictsort; fails on values the reference cannot compare.
int compare_values(const Value& a, const Value& b, bool case_sensitive);

// filters.cpp: `operand | filter` where filter is an identifier or a call.
Value apply_filter(Interpreter& in, const Value& operand, const Node& filter, Environment& env);

// builtins.cpp
// object.name for strings, arrays and dicts (methods such as "upper" or
// "items" come back bound to the object); undefined when there is none.
Value builtin_member(Interpreter& in, const Value& object, const std::string& name);
// `operand is name`; known is false for a test the reference does not have.
bool run_test(const std::string& name, const Value& operand, const Value* argument, bool& known);
Value dict_items(Interpreter& in, const Dict& d);
// attribute="a.b.0" lookups of sort and map.
Value attribute_path(const Value& item, const std::string& path);
void install_globals(Environment& globals);

}  // namespace dseek::jinja
