// The values a template computes with. They follow the reference renderer
// (@huggingface/jinja): numbers are doubles tagged integer or float, strings
// are text, arrays and dicts are shared and never changed after creation,
// except namespaces, the one mutable kind ({% set ns.x = ... %}).
//
// Errors inside the interpreter travel as the Failure exception and become a
// Result at the Template boundary (template.cpp); nothing throws past it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace dseek::jinja {

// An error while lexing, parsing or rendering. offset: byte offset in the
// template source of the construct at fault (located once known).
struct Failure {
  std::string message;
  size_t offset = 0;
  bool located = false;
};

[[noreturn]] inline void fail(std::string message) { throw Failure{std::move(message), 0, false}; }

struct ArrayData;
struct Dict;
struct Callable;

struct Value {
  enum class Type : uint8_t { kUndefined, kNull, kBool, kInt, kFloat, kString, kArray, kObject, kNamespace, kFunction };

  Type type = Type::kUndefined;
  bool is_tuple = false;  // arrays written (a, b): the reference treats them apart in tests and tojson
  bool boolean = false;
  double number = 0;  // kInt and kFloat
  std::shared_ptr<const std::string> str;
  std::shared_ptr<const ArrayData> array;
  std::shared_ptr<Dict> dict;  // kObject (not changed after creation) and kNamespace
  std::shared_ptr<const Callable> function;

  static Value undefined() { return Value{}; }
  static Value null();
  static Value boolean_value(bool b);
  static Value integer(double n);
  static Value floating(double n);
  static Value string(std::string s);
  static Value string(std::shared_ptr<const std::string> s);
  // Throw Failure when nesting passes kMaxDepth (a render limit that also
  // bounds the recursion of every walk over values, destructors included).
  static Value make_array(std::vector<Value> items, bool tuple = false);
  static Value make_object(std::shared_ptr<Dict> dict);
  static Value make_namespace(std::shared_ptr<Dict> dict);
  static Value make_function(std::shared_ptr<const Callable> fn);

  bool is_undefined() const { return type == Type::kUndefined; }
  bool is_null() const { return type == Type::kNull; }
  bool is_number() const { return type == Type::kInt || type == Type::kFloat; }
  bool is_string() const { return type == Type::kString; }
  bool is_array() const { return type == Type::kArray; }
  bool is_object() const { return type == Type::kObject; }
  // ObjectValue or NamespaceValue: what attribute lookups and set ns.x reach.
  bool is_dict() const { return type == Type::kObject || type == Type::kNamespace; }
  const std::string& text() const { return *str; }
  const std::vector<Value>& items() const;

  // The reference's type names, used in its error messages.
  const char* type_name() const;
  // Nesting depth: 0 for scalars, 1 + deepest child for arrays and objects.
  int depth() const;
};

struct ArrayData {
  std::vector<Value> items;
  int depth = 1;
};

// Insertion-ordered string-keyed map (JavaScript's Map): replacing a key keeps
// its position.
struct Dict {
  std::vector<std::pair<std::string, Value>> entries;
  std::unordered_map<std::string, size_t> index;
  int depth = 1;

  const Value* find(std::string_view key) const;
  void set(const std::string& key, Value value);
  size_t size() const { return entries.size(); }
};

class Interpreter;
class Environment;

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
  const Value* kwarg(std::string_view name) const;
};

// A function value: globals (range, namespace...), bound methods ("s.upper")
// and macros. caller: the environment of the call (macros see the caller's
// variables, as in the reference).
struct Callable {
  std::string name;
  std::function<Value(Interpreter&, CallArgs&, Environment& caller)> call;
};

constexpr int kMaxValueDepth = 512;

// JSON input (messages, tools, kwargs) as values. Numbers that are integral
// become integers, as JSON.parse + the reference's conversion make them.
// Fails past kMaxValueDepth.
Value from_json(const nlohmann::ordered_json& j);

// The most any one conversion of a value to text may produce by default
// (values share their parts, so a small value can print as a huge text).
constexpr size_t kMaxTextBytes = 64u << 20;

// RuntimeValue.toString(): how {{ value }} prints (none and undefined print
// nothing; that is decided by the caller). Arrays and dicts print as JSON.
// Fails past max_bytes.
std::string to_output_string(const Value& v, size_t max_bytes = kMaxTextBytes);

// String(value.value) in the reference: what + and ~ concatenate. Differs
// from to_output_string for floats (1.0 -> "1"), arrays ("a,b") and dicts
// ("[object Map]").
std::string to_raw_string(const Value& v, size_t max_bytes = kMaxTextBytes);

// __bool__(): Python truthiness, except that namespaces are always true.
bool truthy(const Value& v);

// a.value == b.value in JavaScript (loose equality; arrays, dicts and
// functions by identity).
bool loose_equals(const Value& a, const Value& b);
// a.value === b.value (strict equality), used by `in` and `unique`.
bool strict_equals(const Value& a, const Value& b);

}  // namespace dseek::jinja
