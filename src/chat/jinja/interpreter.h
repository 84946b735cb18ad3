// Evaluates a parsed template the way the reference's Interpreter does
// (runtime.ts): statement by statement, scopes as a chain of environments,
// macros called in the caller's environment, loops with the reference's
// `loop` object and break/continue semantics. Every render is bounded: output
// and string size, loop iterations, total work and evaluation depth, so a
// hostile template ends with an error instead of hanging or exhausting memory
// or the stack.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "chat/jinja/ast.h"
#include "chat/jinja/value.h"

namespace dseek::jinja {

// Work is counted in units of about a nanosecond or a byte: 32 per evaluated
// node, 1 per byte of text and 64 per list item built. The work limit so
// also bounds what a render allocates in total (about 2 GB at most).
struct RenderLimits {
  size_t max_output_bytes = 16u << 20;     // the result, and any one string built on the way
  size_t max_list_items = 1u << 20;        // any one list built on the way
  uint64_t max_loop_iterations = 1000000;  // for-loop iterations over the whole render
  uint64_t max_work = 2000000000;
  int max_eval_depth = 600;                // nested evaluations (expressions, blocks, macro calls)
  int max_call_depth = 50;                 // nested macro calls
};

class Environment {
 public:
  explicit Environment(Environment* parent = nullptr) : parent_(parent) {}
  const Value* lookup(const std::string& name) const;
  void set(const std::string& name, Value value) { vars_[name] = std::move(value); }
  bool has_own(const std::string& name) const { return vars_.count(name) != 0; }

 private:
  Environment* parent_;
  std::unordered_map<std::string, Value> vars_;
};

class Interpreter {
 public:
  Interpreter(const RenderLimits& limits, std::optional<int64_t> now_unix_seconds);
  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  // Renders the program with these variables (besides the globals). Throws
  // Failure; a failure's offset locates it in the template.
  std::string run(const Node& program, const std::vector<std::pair<std::string, Value>>& variables);

  Value evaluate(const Node& n, Environment& env);
  void execute_block(const NodeList& body, Environment& env, std::string& out);
  Value call(const Value& fn, CallArgs& args, Environment& env);

  // Accounting against the limits; each fails when a limit is passed.
  void charge(uint64_t units);
  void check_size(size_t bytes) const;
  Value make_string(std::string s);
  Value make_array(std::vector<Value> items, bool tuple = false);
  std::shared_ptr<Dict> new_namespace();

  const RenderLimits& limits() const { return limits_; }
  std::optional<int64_t> now() const { return now_; }

 private:
  RenderLimits limits_;
  std::optional<int64_t> now_;
  uint64_t work_ = 0;
  uint64_t loop_iterations_ = 0;
  int eval_depth_ = 0;
  int call_depth_ = 0;
  // Every namespace made during the render; emptied at the end so that
  // cycles (set ns.self = ns) do not leak and nothing deep is left to destroy.
  std::vector<std::shared_ptr<Dict>> namespaces_;

  void append(std::string& out, std::string_view text) const;
  void execute(const Node& n, Environment& env, std::string& out);
  Value evaluate_node(const Node& n, Environment& env);
  Value evaluate_literal_collection(const Node& n, Environment& env);
  Value evaluate_member(const Node& n, Environment& env);
  Value evaluate_slice(const Value& object, const Node& slice, Environment& env);
  Value evaluate_call(const Node& n, Environment& env);
  Value evaluate_unary(const Node& n, Environment& env);
  Value evaluate_test(const Node& n, Environment& env);
  CallArgs evaluate_arguments(const NodeList& args, Environment& env);
  void execute_set(const Node& n, Environment& env);
  void execute_for(const Node& n, Environment& env, std::string& out);
  void define_macro(const Node& n, Environment& env);
  Value execute_call_block(const Node& n, Environment& env);
  void bind_macro_arguments(const std::string& display_name, const NodeList& params, bool wants_kwargs,
                            bool wants_varargs, CallArgs& args, Environment& scope);
};

}  // namespace dseek::jinja
