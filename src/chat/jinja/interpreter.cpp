#include "chat/jinja/interpreter.h"

#include <algorithm>

#include "chat/jinja/builtins.h"
#include "chat/jinja/js_text.h"

namespace dseek::jinja {

namespace {

// break / continue travel to the enclosing loop as exceptions, as in the
// reference (they cross macro calls too).
struct LoopSignal {
  bool is_break;
  size_t offset;
};

struct DepthGuard {
  int& depth;
  DepthGuard(int& d, int limit) : depth(d) {
    if (++depth > limit) {
      --depth;
      fail("template evaluation nested more than " + std::to_string(limit) + " levels deep");
    }
  }
  ~DepthGuard() { --depth; }
};

// Whether a macro or call block reads `kwargs` / `varargs` (then extra
// arguments are collected instead of refused). A simplification of the
// reference's scan: any identifier of that name in the body counts.
void find_special_names(const Node& n, bool& kwargs, bool& varargs) {
  if (n.kind == NodeKind::kIdentifier) {
    kwargs = kwargs || n.text == "kwargs";
    varargs = varargs || n.text == "varargs";
  }
  for (const NodePtr* child : {&n.a, &n.b, &n.c})
    if (*child) find_special_names(**child, kwargs, varargs);
  for (const NodeList* l : {&n.list, &n.list2, &n.list3})
    for (const NodePtr& child : *l) find_special_names(*child, kwargs, varargs);
}

void find_special_names(const NodeList& body, bool& kwargs, bool& varargs) {
  for (const NodePtr& n : body) find_special_names(*n, kwargs, varargs);
}

}  // namespace

const Value* Environment::lookup(const std::string& name) const {
  for (const Environment* e = this; e != nullptr; e = e->parent_) {
    auto it = e->vars_.find(name);
    if (it != e->vars_.end()) return &it->second;
  }
  return nullptr;
}

Interpreter::Interpreter(const RenderLimits& limits, std::optional<int64_t> now_unix_seconds)
    : limits_(limits), now_(now_unix_seconds) {}

Interpreter::~Interpreter() {
  for (auto& ns : namespaces_) {
    ns->entries.clear();
    ns->index.clear();
  }
}

void Interpreter::charge(uint64_t units) {
  work_ += units;
  if (work_ > limits_.max_work) fail("render exceeded its work limit (" + std::to_string(limits_.max_work) + " units)");
}

void Interpreter::check_size(size_t bytes) const {
  if (bytes > limits_.max_output_bytes)
    fail("render would build text larger than the limit of " + std::to_string(limits_.max_output_bytes) + " bytes");
}

Value Interpreter::make_string(std::string s) {
  check_size(s.size());
  charge(s.size());
  return Value::string(std::move(s));
}

Value Interpreter::make_array(std::vector<Value> items, bool tuple) {
  if (items.size() > limits_.max_list_items)
    fail("render would build a list longer than the limit of " + std::to_string(limits_.max_list_items) + " items");
  charge(64 * static_cast<uint64_t>(items.size()));
  return Value::make_array(std::move(items), tuple);
}

std::shared_ptr<Dict> Interpreter::new_namespace() {
  auto d = std::make_shared<Dict>();
  namespaces_.push_back(d);
  return d;
}

void Interpreter::append(std::string& out, std::string_view text) const {
  check_size(out.size() + text.size());
  out.append(text);
}

std::string Interpreter::run(const Node& program, const std::vector<std::pair<std::string, Value>>& variables) {
  Environment globals;
  install_globals(globals);
  for (const auto& [name, value] : variables) {
    if (globals.has_own(name))
      fail("template variables: '" + name + "' is a global of the template language (Variable already declared: " +
           name + ")");
    globals.set(name, value);
  }
  std::string out;
  try {
    execute_block(program.list, globals, out);
  } catch (const LoopSignal& s) {
    throw Failure{s.is_break ? "break outside of a loop" : "continue outside of a loop", s.offset, true};
  }
  return out;
}

Value Interpreter::evaluate(const Node& n, Environment& env) {
  DepthGuard guard(eval_depth_, limits_.max_eval_depth);
  charge(32);
  try {
    return evaluate_node(n, env);
  } catch (Failure& f) {
    if (!f.located) {
      f.offset = n.offset;
      f.located = true;
    }
    throw;
  }
}

void Interpreter::execute_block(const NodeList& body, Environment& env, std::string& out) {
  for (const NodePtr& stmt : body) execute(*stmt, env, out);
}

// One statement of a block, its output appended to out. Statements that make
// output (if, for, text) write into out directly; expressions are printed
// unless they are none or undefined.
void Interpreter::execute(const Node& n, Environment& env, std::string& out) {
  DepthGuard guard(eval_depth_, limits_.max_eval_depth);
  charge(32);
  try {
    switch (n.kind) {
      case NodeKind::kStringLiteral:
        append(out, n.text);
        return;
      case NodeKind::kComment:
        return;
      case NodeKind::kIf: {
        const bool test = truthy(evaluate(*n.a, env));
        execute_block(test ? n.list : n.list2, env, out);
        return;
      }
      case NodeKind::kFor:
        execute_for(n, env, out);
        return;
      case NodeKind::kSet:
        execute_set(n, env);
        return;
      case NodeKind::kMacro:
        define_macro(n, env);
        return;
      case NodeKind::kBreak:
      case NodeKind::kContinue:
        throw LoopSignal{n.kind == NodeKind::kBreak, n.offset};
      default: {
        const Value v = evaluate(n, env);
        if (!v.is_null() && !v.is_undefined()) append(out, to_output_string(v, limits_.max_output_bytes));
        return;
      }
    }
  } catch (Failure& f) {
    if (!f.located) {
      f.offset = n.offset;
      f.located = true;
    }
    throw;
  }
}

Value Interpreter::evaluate_node(const Node& n, Environment& env) {
  switch (n.kind) {
    case NodeKind::kIntegerLiteral:
      return Value::integer(n.number);
    case NodeKind::kFloatLiteral:
      return Value::floating(n.number);
    case NodeKind::kStringLiteral:
      return Value::string(n.text);
    case NodeKind::kArrayLiteral:
    case NodeKind::kTupleLiteral:
    case NodeKind::kObjectLiteral:
      return evaluate_literal_collection(n, env);
    case NodeKind::kIdentifier: {
      const Value* v = env.lookup(n.text);
      return v != nullptr ? *v : Value::undefined();
    }
    case NodeKind::kCall:
      return evaluate_call(n, env);
    case NodeKind::kMember:
      return evaluate_member(n, env);
    case NodeKind::kUnary:
      return evaluate_unary(n, env);
    case NodeKind::kBinary: {
      const Value left = evaluate(*n.a, env);
      if (n.op == BinaryOp::kAnd) return truthy(left) ? evaluate(*n.b, env) : left;
      if (n.op == BinaryOp::kOr) return truthy(left) ? left : evaluate(*n.b, env);
      const Value right = evaluate(*n.b, env);
      return binary_operation(*this, n.op, n.text, left, right);
    }
    case NodeKind::kFilter: {
      const Value operand = evaluate(*n.a, env);
      return apply_filter(*this, operand, *n.b, env);
    }
    case NodeKind::kTest:
      return evaluate_test(n, env);
    case NodeKind::kSelect:
      if (!truthy(evaluate(*n.b, env))) return Value::undefined();
      return evaluate(*n.a, env);
    case NodeKind::kTernary:
      return truthy(evaluate(*n.a, env)) ? evaluate(*n.b, env) : evaluate(*n.c, env);
    case NodeKind::kComment:
    case NodeKind::kSet:
    case NodeKind::kMacro:
    case NodeKind::kBreak:
    case NodeKind::kContinue:
    case NodeKind::kIf:
    case NodeKind::kFor: {
      // A statement used as a value (only the block evaluators do this).
      std::string out;
      execute(n, env, out);
      if (n.kind == NodeKind::kIf || n.kind == NodeKind::kFor) return make_string(std::move(out));
      return Value::null();
    }
    case NodeKind::kCallBlock:
      return execute_call_block(n, env);
    case NodeKind::kFilterBlock: {
      std::string body;
      execute_block(n.list, env, body);
      return apply_filter(*this, make_string(std::move(body)), *n.a, env);
    }
    default:
      fail("Unknown node type");
  }
}

Value Interpreter::evaluate_literal_collection(const Node& n, Environment& env) {
  if (n.kind == NodeKind::kObjectLiteral) {
    auto dict = std::make_shared<Dict>();
    for (size_t i = 0; i < n.list.size(); ++i) {
      const Value key = evaluate(*n.list[i], env);
      if (!key.is_string()) fail(std::string("Object keys must be strings: got ") + key.type_name());
      dict->set(key.text(), evaluate(*n.list2[i], env));
    }
    charge(16 * dict->size());
    return Value::make_object(std::move(dict));
  }
  std::vector<Value> items;
  items.reserve(n.list.size());
  for (const NodePtr& item : n.list) items.push_back(evaluate(*item, env));
  return make_array(std::move(items), n.kind == NodeKind::kTupleLiteral);
}

Value Interpreter::evaluate_member(const Node& n, Environment& env) {
  const Value object = evaluate(*n.a, env);
  Value property;
  if (n.flag) {
    if (n.b->kind == NodeKind::kSlice) return evaluate_slice(object, *n.b, env);
    property = evaluate(*n.b, env);
  } else if (n.b->kind == NodeKind::kIntegerLiteral) {
    property = Value::integer(n.b->number);
  } else {
    property = Value::string(n.b->text);
  }

  if (object.is_dict()) {
    if (!property.is_string())
      fail(std::string("Cannot access property with non-string: got ") + property.type_name());
    if (const Value* v = object.dict->find(property.text())) return *v;
    if (object.is_object()) return builtin_member(*this, object, property.text());
    return Value::undefined();
  }
  if (object.is_array() || object.is_string()) {
    if (property.type == Value::Type::kInt) {
      double index = property.number;
      if (object.is_array()) {
        const auto& items = object.items();
        const double len = static_cast<double>(items.size());
        if (index < 0) index += len;
        if (index >= 0 && index < len) return items[static_cast<size_t>(index)];
        return Value::undefined();
      }
      std::string ch;
      if (js::char_at(object.text(), index, ch)) return Value::string(std::move(ch));
      return Value::undefined();
    }
    if (property.is_string()) return builtin_member(*this, object, property.text());
    fail(std::string("Cannot access property with non-string/non-number: got ") + property.type_name());
  }
  if (!property.is_string()) fail(std::string("Cannot access property with non-string: got ") + property.type_name());
  return Value::undefined();
}

Value Interpreter::evaluate_slice(const Value& object, const Node& slice, Environment& env) {
  if (!object.is_array() && !object.is_string()) fail("Slice object must be an array or string");
  const Value start = slice.a ? evaluate(*slice.a, env) : Value::undefined();
  const Value stop = slice.b ? evaluate(*slice.b, env) : Value::undefined();
  const Value step = slice.c ? evaluate(*slice.c, env) : Value::undefined();
  auto check = [](const Value& v, const char* what) {
    if (v.type != Value::Type::kInt && !v.is_undefined())
      fail(std::string("Slice ") + what + " must be numeric or undefined");
  };
  check(start, "start");
  check(stop, "stop");
  check(step, "step");

  // Strings slice by code point (Array.from in the reference).
  std::vector<std::string_view> chars;
  if (object.is_string()) {
    const std::string& s = object.text();
    for (size_t i = 0; i < s.size();) {
      const size_t begin = i;
      js::decode_utf8(s, i);
      chars.emplace_back(s.data() + begin, i - begin);
    }
  }
  const double len = object.is_array() ? static_cast<double>(object.items().size()) : static_cast<double>(chars.size());
  const double st = step.is_undefined() ? 1 : step.number;
  const double direction = st > 0 ? 1 : st < 0 ? -1 : 0;
  double from, to;
  if (direction >= 0) {
    from = start.is_undefined() ? 0 : start.number;
    from = from < 0 ? std::max(len + from, 0.0) : std::min(from, len);
    to = stop.is_undefined() ? len : stop.number;
    to = to < 0 ? std::max(len + to, 0.0) : std::min(to, len);
  } else {
    from = start.is_undefined() ? len - 1 : start.number;
    from = from < 0 ? std::max(len + from, -1.0) : std::min(from, len - 1);
    to = stop.is_undefined() ? -1 : stop.number;
    to = to < -1 ? std::max(len + to, -1.0) : std::min(to, len - 1);
  }
  std::vector<Value> items;
  std::string text;
  if (direction != 0) {
    for (double i = from; direction * i < direction * to; i += st) {
      const auto k = static_cast<size_t>(i);
      if (object.is_array()) {
        items.push_back(object.items()[k]);
      } else {
        text.append(chars[k]);
      }
    }
  }
  if (object.is_array()) return make_array(std::move(items));
  return make_string(std::move(text));
}

CallArgs Interpreter::evaluate_arguments(const NodeList& args, Environment& env) {
  CallArgs out;
  // Positional arguments (with * unpacking) first, then keywords, as the reference does.
  for (const NodePtr& a : args) {
    if (a->kind == NodeKind::kSpread) {
      const Value v = evaluate(*a->a, env);
      if (!v.is_array()) fail(std::string("Cannot unpack non-iterable type: ") + v.type_name());
      for (const Value& item : v.items()) out.positional.push_back(item);
    } else if (a->kind != NodeKind::kKeywordArgument && a->kind != NodeKind::kKeywordSpread) {
      out.positional.push_back(evaluate(*a, env));
    }
  }
  auto add = [&](const std::string& key, Value v) {
    if (out.kwarg(key) != nullptr) fail("Got multiple values for keyword argument '" + key + "'");
    out.keyword.emplace_back(key, std::move(v));
  };
  for (const NodePtr& a : args) {
    if (a->kind == NodeKind::kKeywordArgument) {
      add(a->text, evaluate(*a->a, env));
    } else if (a->kind == NodeKind::kKeywordSpread) {
      const Value v = evaluate(*a->a, env);
      if (!v.is_object()) fail(std::string("Argument after ** must be a mapping, not ") + v.type_name());
      for (const auto& [key, value] : v.dict->entries) add(key, value);
    }
  }
  return out;
}

Value Interpreter::evaluate_call(const Node& n, Environment& env) {
  CallArgs args = evaluate_arguments(n.list, env);
  const Value fn = evaluate(*n.a, env);
  if (fn.type != Value::Type::kFunction)
    fail(std::string("Cannot call something that is not a function: got ") + fn.type_name());
  return call(fn, args, env);
}

Value Interpreter::call(const Value& fn, CallArgs& args, Environment& env) {
  return fn.function->call(*this, args, env);
}

Value Interpreter::evaluate_unary(const Node& n, Environment& env) {
  const Value v = evaluate(*n.a, env);
  if (n.text == "not") return Value::boolean_value(!truthy(v));
  return unary_sign(n.text, v);
}

Value Interpreter::evaluate_test(const Node& n, Environment& env) {
  const Value operand = evaluate(*n.a, env);
  bool known = true;
  const bool result = run_test(n.text, operand, nullptr, known);
  if (!known) fail("Unknown test: " + n.text);
  return Value::boolean_value(n.flag ? !result : result);
}

void Interpreter::execute_set(const Node& n, Environment& env) {
  Value rhs;
  if (n.b) {
    rhs = evaluate(*n.b, env);
  } else {
    std::string body;
    execute_block(n.list, env, body);
    rhs = make_string(std::move(body));
  }
  const Node& target = *n.a;
  if (target.kind == NodeKind::kIdentifier) {
    env.set(target.text, std::move(rhs));
  } else if (target.kind == NodeKind::kTupleLiteral) {
    if (!rhs.is_array()) fail(std::string("Cannot unpack non-iterable type in set: ") + rhs.type_name());
    const auto& items = rhs.items();
    if (items.size() != target.list.size())
      fail(std::string("Too ") + (target.list.size() > items.size() ? "few" : "many") + " items to unpack in set");
    for (size_t i = 0; i < items.size(); ++i) {
      if (target.list[i]->kind != NodeKind::kIdentifier) fail("Cannot unpack to non-identifier in set");
      env.set(target.list[i]->text, items[i]);
    }
  } else if (target.kind == NodeKind::kMember) {
    const Value object = evaluate(*target.a, env);
    if (object.type != Value::Type::kNamespace) fail("cannot assign attribute on non-namespace object");
    // The reference assigns the property's name, also for ns[name].
    if (target.b->kind != NodeKind::kIdentifier) fail("Cannot assign to member with non-identifier property");
    object.dict->set(target.b->text, std::move(rhs));
  } else {
    fail("Invalid LHS inside assignment expression");
  }
}

void Interpreter::execute_for(const Node& n, Environment& env, std::string& out) {
  Environment scope(&env);
  const Node* test = nullptr;
  Value iterable;
  if (n.b->kind == NodeKind::kSelect) {
    iterable = evaluate(*n.b->a, scope);
    test = n.b->b.get();
  } else {
    iterable = evaluate(*n.b, scope);
  }
  if (!iterable.is_array() && !iterable.is_object())
    fail(std::string("Expected iterable or object type in for loop: got ") + iterable.type_name());
  if (iterable.is_object()) {
    std::vector<Value> keys;
    for (const auto& entry : iterable.dict->entries) keys.push_back(Value::string(entry.first));
    iterable = make_array(std::move(keys));
  }

  const Node& var = *n.a;
  auto bind = [&var](const Value& current, Environment& target) {
    if (var.kind == NodeKind::kIdentifier) {
      target.set(var.text, current);
      return;
    }
    for (size_t j = 0; j < var.list.size(); ++j) {
      if (var.list[j]->kind != NodeKind::kIdentifier) fail("Cannot unpack non-identifier type");
      target.set(var.list[j]->text, current.items()[j]);
    }
  };

  std::vector<Value> items;
  for (const Value& current : iterable.items()) {
    charge(16);
    if (var.kind == NodeKind::kTupleLiteral) {
      // Only lists unpack here (a tuple value does not, as in the reference).
      if (current.type != Value::Type::kArray || current.is_tuple)
        fail(std::string("Cannot unpack non-iterable type: ") + current.type_name());
      if (var.list.size() != current.items().size())
        fail(std::string("Too ") + (var.list.size() > current.items().size() ? "few" : "many") + " items to unpack");
    }
    if (test != nullptr) {
      Environment loop_scope(&scope);
      bind(current, loop_scope);
      if (!truthy(evaluate(*test, loop_scope))) continue;
    }
    items.push_back(current);
  }

  bool no_iteration = true;
  const size_t count = items.size();
  for (size_t i = 0; i < count; ++i) {
    if (++loop_iterations_ > limits_.max_loop_iterations)
      fail("render exceeded its limit of " + std::to_string(limits_.max_loop_iterations) + " loop iterations");
    auto loop = std::make_shared<Dict>();
    const double di = static_cast<double>(i);
    const double dn = static_cast<double>(count);
    loop->set("index", Value::integer(di + 1));
    loop->set("index0", Value::integer(di));
    loop->set("revindex", Value::integer(dn - di));
    loop->set("revindex0", Value::integer(dn - di - 1));
    loop->set("first", Value::boolean_value(i == 0));
    loop->set("last", Value::boolean_value(i + 1 == count));
    loop->set("length", Value::integer(dn));
    loop->set("previtem", i > 0 ? items[i - 1] : Value::undefined());
    loop->set("nextitem", i + 1 < count ? items[i + 1] : Value::undefined());
    scope.set("loop", Value::make_object(std::move(loop)));
    bind(items[i], scope);
    // The reference keeps an iteration's output only when the iteration
    // completes: break and continue drop what it printed so far.
    std::string body;
    try {
      execute_block(n.list, scope, body);
    } catch (const LoopSignal& s) {
      if (s.is_break) break;
      continue;
    }
    append(out, body);
    no_iteration = false;
  }
  if (no_iteration) execute_block(n.list2, scope, out);
}

void Interpreter::bind_macro_arguments(const std::string& display_name, const NodeList& params, bool wants_kwargs,
                                       bool wants_varargs, CallArgs& args, Environment& scope) {
  std::vector<std::pair<std::string, Value>> keywords = args.keyword;
  std::vector<const Node*> pending_defaults;
  for (size_t i = 0; i < params.size(); ++i) {
    const Node& p = *params[i];
    const std::string& name = p.text;
    const Node* default_value = p.kind == NodeKind::kKeywordArgument ? p.a.get() : nullptr;
    bool have = i < args.positional.size();
    Value value = have ? args.positional[i] : Value::undefined();
    if (!have) {
      for (auto it = keywords.begin(); it != keywords.end(); ++it) {
        if (it->first != name) continue;
        value = it->second;
        keywords.erase(it);
        have = true;
        break;
      }
    }
    if (!have && default_value != nullptr) pending_defaults.push_back(&p);
    scope.set(name, std::move(value));
  }
  if (wants_kwargs) {
    auto d = std::make_shared<Dict>();
    for (auto& [k, v] : keywords) d->set(k, v);
    scope.set("kwargs", Value::make_object(std::move(d)));
  } else if (!keywords.empty()) {
    fail("macro " + display_name + " takes no keyword argument '" + keywords.front().first + "'");
  }
  if (wants_varargs) {
    std::vector<Value> rest;
    for (size_t i = params.size(); i < args.positional.size(); ++i) rest.push_back(args.positional[i]);
    scope.set("varargs", make_array(std::move(rest)));
  } else if (args.positional.size() > params.size()) {
    fail("macro " + display_name + " takes not more than " + std::to_string(params.size()) + " argument(s)");
  }
  for (const Node* p : pending_defaults) scope.set(p->text, evaluate(*p->a, scope));
}

void Interpreter::define_macro(const Node& n, Environment& env) {
  bool wants_kwargs = false;
  bool wants_varargs = false;
  find_special_names(n.list2, wants_kwargs, wants_varargs);
  const Node* node = &n;
  auto fn = std::make_shared<Callable>();
  fn->name = n.a->text;
  fn->call = [node, wants_kwargs, wants_varargs](Interpreter& in, CallArgs& args, Environment& caller) -> Value {
    if (++in.call_depth_ > in.limits_.max_call_depth) {
      --in.call_depth_;
      fail("macro calls nested more than " + std::to_string(in.limits_.max_call_depth) + " deep");
    }
    struct Exit {
      int& d;
      ~Exit() { --d; }
    } exit{in.call_depth_};
    Environment scope(&caller);
    in.bind_macro_arguments("'" + node->a->text + "'", node->list, wants_kwargs, wants_varargs, args, scope);
    std::string out;
    in.execute_block(node->list2, scope, out);
    return in.make_string(std::move(out));
  };
  env.set(n.a->text, Value::make_function(std::move(fn)));
}

Value Interpreter::execute_call_block(const Node& n, Environment& env) {
  bool wants_kwargs = false;
  bool wants_varargs = false;
  find_special_names(n.list2, wants_kwargs, wants_varargs);
  const Node* node = &n;
  Environment* where = &env;
  // caller() closes over this block's environment, which ends with the
  // statement; a caller kept past it (set ns.c = caller) is refused.
  auto alive = std::make_shared<bool>(true);
  struct Expire {
    std::shared_ptr<bool> alive;
    ~Expire() { *alive = false; }
  } expire{alive};
  auto caller_fn = std::make_shared<Callable>();
  caller_fn->name = "caller";
  caller_fn->call = [node, where, alive, wants_kwargs, wants_varargs](Interpreter& in, CallArgs& args,
                                                                     Environment&) -> Value {
    if (!*alive) fail("caller() called outside of its call block");
    Environment scope(where);
    in.bind_macro_arguments("None", node->list, wants_kwargs, wants_varargs, args, scope);
    std::string out;
    in.execute_block(node->list2, scope, out);
    return in.make_string(std::move(out));
  };
  const Node& call_node = *n.a;
  CallArgs args = evaluate_arguments(call_node.list, env);
  const Value fn = evaluate(*call_node.a, env);
  if (fn.type != Value::Type::kFunction)
    fail(std::string("Cannot call something that is not a function: got ") + fn.type_name());
  Environment inner(&env);
  inner.set("caller", Value::make_function(std::move(caller_fn)));
  return call(fn, args, inner);
}

}  // namespace dseek::jinja
