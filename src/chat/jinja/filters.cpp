// `value | filter` and `value | filter(args)`: the reference's applyFilter,
// which chooses by the operand's type, so the same filter name can work on
// one type and be an error on another. One filter is added: from_json (see
// json_text.h), which the DeepSeek V3.2 and V4 templates need.
#include <algorithm>
#include <cmath>

#include "chat/jinja/builtins.h"
#include "chat/jinja/js_text.h"
#include "chat/jinja/json_text.h"

namespace dseek::jinja {

namespace {

[[noreturn]] void cannot_apply(const std::string& name, const Value& operand) {
  fail("Cannot apply filter \"" + name + "\" to type: " + operand.type_name());
}

// Array.prototype.join's view of one element: none/undefined are empty.
std::string join_item(const Value& v, size_t max) { return v.is_null() || v.is_undefined() ? "" : to_raw_string(v, max); }

Value join(Interpreter& in, const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
    in.check_size(out.size());
  }
  return in.make_string(std::move(out));
}

std::vector<std::string> code_points(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    const size_t begin = i;
    js::decode_utf8(s, i);
    out.push_back(s.substr(begin, i - begin));
  }
  return out;
}

Value indent(Interpreter& in, const std::string& s, double width, bool first, bool blank) {
  if (width < 0) fail("Invalid count value: " + js::number_to_string(width));
  const std::string pad(static_cast<size_t>(std::min(width, 1e9)), ' ');
  in.check_size(pad.size());
  std::string out;
  size_t start = 0;
  for (size_t line = 0;; ++line) {
    const size_t nl = s.find('\n', start);
    const std::string_view text(s.data() + start, (nl == std::string::npos ? s.size() : nl) - start);
    if (line > 0) out += '\n';
    if (!((!first && line == 0) || (!blank && text.empty()))) out += pad;
    out.append(text);
    in.check_size(out.size());
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return in.make_string(std::move(out));
}

Value sort_array(Interpreter& in, const Value& operand, const CallArgs& args) {
  auto arg = [&](size_t i, const char* key, Value fallback) {
    if (i < args.positional.size()) return args.positional[i];
    if (const Value* v = args.kwarg(key)) return *v;
    return fallback;
  };
  const Value reverse = arg(0, "reverse", Value::boolean_value(false));
  if (reverse.type != Value::Type::kBool) fail("reverse must be a boolean");
  const Value case_sensitive = arg(1, "case_sensitive", Value::boolean_value(false));
  if (case_sensitive.type != Value::Type::kBool) fail("case_sensitive must be a boolean");
  const Value attribute = arg(2, "attribute", Value::null());
  if (!attribute.is_string() && attribute.type != Value::Type::kInt && !attribute.is_null())
    fail("attribute must be a string, integer, or null");
  const std::string path = attribute.is_string()                     ? attribute.text()
                           : attribute.type == Value::Type::kInt ? js::number_to_string(attribute.number)
                                                                     : std::string();
  auto key = [&](const Value& v) { return attribute.is_null() ? v : attribute_path(v, path); };
  std::vector<Value> items = operand.items();
  in.charge(16 * items.size() * static_cast<uint64_t>(std::log2(items.size() + 1.0) + 1));
  std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
    const int c = compare_values(key(a), key(b), case_sensitive.boolean);
    return reverse.boolean ? c > 0 : c < 0;
  });
  return in.make_array(std::move(items));
}

Value select_attr(Interpreter& in, const Value& operand, const Node& call, const std::string& name,
                  Environment& env) {
  const bool select = name == "selectattr";
  for (const Value& item : operand.items())
    if (!item.is_dict()) fail("`" + name + "` can only be applied to array of objects");
  for (const NodePtr& a : call.list)
    if (a->kind != NodeKind::kStringLiteral) fail("arguments of `" + name + "` must be strings");
  std::vector<Value> args;
  for (const NodePtr& a : call.list) args.push_back(in.evaluate(*a, env));
  if (args.empty()) fail("`" + name + "` needs the name of an attribute");
  const std::string& attr = args[0].text();
  std::vector<Value> out;
  for (const Value& item : operand.items()) {
    const Value* a = item.dict->find(attr);
    bool result = false;
    if (a != nullptr) {
      if (args.size() > 1) {
        bool known = true;
        result = run_test(args[1].text(), *a, args.size() > 2 ? &args[2] : nullptr, known);
        if (!known) fail("Unknown test: " + args[1].text());
      } else {
        result = truthy(*a);
      }
    }
    if (result == select) out.push_back(item);
  }
  return in.make_array(std::move(out));
}

Value map_attribute(Interpreter& in, const Value& operand, const CallArgs& args) {
  const Value* attr = args.kwarg("attribute");
  if (attr == nullptr) fail("`map` expressions without `attribute` set are not currently supported.");
  if (!attr->is_string()) fail("attribute must be a string");
  const Value* fallback = args.kwarg("default");
  std::vector<Value> out;
  for (const Value& item : operand.items()) {
    if (!item.is_dict()) fail("items in map must be an object");
    Value v = attribute_path(item, attr->text());
    if (v.is_undefined() && fallback != nullptr) v = *fallback;
    out.push_back(std::move(v));
  }
  return in.make_array(std::move(out));
}

Value tojson(Interpreter& in, const Value& operand, const CallArgs& args) {
  JsonOptions options;
  options.max_bytes = in.limits().max_output_bytes;
  if (const Value* v = args.kwarg("indent")) {
    if (v->type != Value::Type::kInt && !v->is_null()) fail("If set, indent must be a number");
    if (v->type == Value::Type::kInt) options.indent = static_cast<int>(std::clamp(v->number, -1e9, 1e9));
  }
  if (const Value* v = args.kwarg("ensure_ascii")) {
    if (v->type != Value::Type::kBool) fail("If set, ensure_ascii must be a boolean");
    options.ensure_ascii = v->boolean;
  }
  if (const Value* v = args.kwarg("sort_keys")) {
    if (v->type != Value::Type::kBool) fail("If set, sort_keys must be a boolean");
    options.sort_keys = v->boolean;
  }
  if (const Value* v = args.kwarg("separators")) {
    if (v->is_array()) {
      if (v->items().size() != 2 || !v->items()[0].is_string() || !v->items()[1].is_string())
        fail("separators must be a tuple of two strings");
      options.has_separators = true;
      options.item_separator = v->items()[0].text();
      options.key_separator = v->items()[1].text();
    } else if (!v->is_null()) {
      fail("If set, separators must be a tuple of two strings");
    }
  }
  return in.make_string(to_json(operand, options, true));
}

Value from_json(Interpreter& in, const Value& operand) {
  if (!operand.is_string()) fail(std::string("from_json: expected a string, got ") + operand.type_name());
  in.charge(16 * operand.text().size());
  return parse_json_value(operand.text());
}

// `x | name` (no parentheses).
Value plain_filter(Interpreter& in, const Value& operand, const std::string& name) {
  if (name == "safe") return operand;
  if (name == "tojson") {
    JsonOptions options;
    options.max_bytes = in.limits().max_output_bytes;
    return in.make_string(to_json(operand, options, true));
  }
  if (name == "from_json") return from_json(in, operand);
  using T = Value::Type;
  switch (operand.type) {
    case T::kArray: {
      const auto& items = operand.items();
      if (name == "list") return operand;
      if (name == "first") return items.empty() ? Value::undefined() : items.front();
      if (name == "last") return items.empty() ? Value::undefined() : items.back();
      if (name == "length") return Value::integer(static_cast<double>(items.size()));
      if (name == "reverse") return in.make_array(std::vector<Value>(items.rbegin(), items.rend()));
      if (name == "sort") return sort_array(in, operand, CallArgs{});
      if (name == "join") {
        std::vector<std::string> parts;
        for (const Value& v : items) parts.push_back(join_item(v, in.limits().max_output_bytes));
        return join(in, parts, "");
      }
      if (name == "string") {
        JsonOptions options;
        options.max_bytes = in.limits().max_output_bytes;
        return in.make_string(to_json(operand, options, false));
      }
      if (name == "unique") {
        std::vector<Value> out;
        for (const Value& v : items) {
          // A Set of the raw values: numbers by value (NaN equal to NaN), objects by identity.
          bool seen = false;
          for (const Value& o : out) {
            const bool both_nan = o.is_number() && v.is_number() && std::isnan(o.number) && std::isnan(v.number);
            if (both_nan || strict_equals(o, v)) {
              seen = true;
              break;
            }
          }
          if (!seen) out.push_back(v);
        }
        in.charge(16 * items.size() * out.size());
        return in.make_array(std::move(out));
      }
      fail("Unknown ArrayValue filter: " + name);
    }
    case T::kString: {
      const std::string& s = operand.text();
      if (name == "length") return Value::integer(static_cast<double>(js::utf16_length(s)));
      if (name == "upper" || name == "lower" || name == "title" || name == "capitalize") {
        CallArgs none;
        Environment scratch;
        return in.call(builtin_member(in, operand, name), none, scratch);
      }
      if (name == "trim") return in.make_string(js::trim(s, true, true));
      if (name == "indent") return indent(in, s, 4, false, false);
      if (name == "join" || name == "string") return operand;
      if (name == "int") {
        const double v = js::parse_int(s);
        return Value::integer(std::isnan(v) ? 0 : v);
      }
      if (name == "float") {
        const double v = js::parse_float(s);
        return Value::floating(std::isnan(v) ? 0 : v);
      }
      fail("Unknown StringValue filter: " + name);
    }
    case T::kInt:
    case T::kFloat: {
      if (name == "abs")
        return operand.type == T::kInt ? Value::integer(std::fabs(operand.number))
                                       : Value::floating(std::fabs(operand.number));
      if (name == "int") return Value::integer(std::floor(operand.number));
      if (name == "float") return Value::floating(operand.number);
      if (name == "string") return in.make_string(to_output_string(operand, in.limits().max_output_bytes));
      fail("Unknown NumericValue filter: " + name);
    }
    case T::kObject: {
      if (name == "items") return dict_items(in, *operand.dict);
      if (name == "length") return Value::integer(static_cast<double>(operand.dict->size()));
      const Value builtin = builtin_member(in, operand, name);
      if (builtin.type == T::kFunction) {
        CallArgs none;
        Environment scratch;
        return in.call(builtin, none, scratch);
      }
      fail("Unknown ObjectValue filter: " + name);
    }
    case T::kBool: {
      if (name == "bool") return operand;
      if (name == "int") return Value::integer(operand.boolean ? 1 : 0);
      if (name == "float") return Value::floating(operand.boolean ? 1 : 0);
      if (name == "string") return Value::string(operand.boolean ? "true" : "false");
      fail("Unknown BooleanValue filter: " + name);
    }
    default:
      cannot_apply(name, operand);
  }
}

// `x | name(args)`.
Value call_filter(Interpreter& in, const Value& operand, const Node& call, Environment& env) {
  if (call.a->kind != NodeKind::kIdentifier) fail("Unknown filter: the filter is not a name");
  const std::string& name = call.a->text;
  // selectattr/rejectattr look at their argument nodes; every other filter
  // gets evaluated arguments.
  if (operand.is_array() && (name == "selectattr" || name == "rejectattr"))
    return select_attr(in, operand, call, name, env);

  auto evaluate_args = [&] {
    CallArgs args;
    for (const NodePtr& a : call.list) {
      if (a->kind == NodeKind::kKeywordArgument) {
        if (args.kwarg(a->text) != nullptr) fail("Got multiple values for keyword argument '" + a->text + "'");
        args.keyword.emplace_back(a->text, in.evaluate(*a->a, env));
      } else if (a->kind == NodeKind::kSpread || a->kind == NodeKind::kKeywordSpread) {
        fail("argument unpacking is not supported in filter arguments");
      } else {
        args.positional.push_back(in.evaluate(*a, env));
      }
    }
    return args;
  };

  if (name == "tojson") return tojson(in, operand, evaluate_args());
  if (name == "from_json") return from_json(in, operand);
  if (name == "join") {
    std::vector<std::string> parts;
    if (operand.is_string()) {
      parts = code_points(operand.text());
    } else if (operand.is_array()) {
      for (const Value& v : operand.items()) parts.push_back(join_item(v, in.limits().max_output_bytes));
    } else {
      cannot_apply(name, operand);
    }
    const CallArgs args = evaluate_args();
    Value sep = Value::string("");
    if (!args.positional.empty()) {
      sep = args.positional[0];
    } else if (const Value* v = args.kwarg("separator")) {
      sep = *v;
    }
    if (!sep.is_string()) fail("separator must be a string");
    return join(in, parts, sep.text());
  }
  if (name == "int" || name == "float") {
    const CallArgs args = evaluate_args();
    const bool is_int = name == "int";
    Value fallback = is_int ? Value::integer(0) : Value::floating(0);
    if (!args.positional.empty()) {
      fallback = args.positional[0];
    } else if (const Value* v = args.kwarg("default")) {
      fallback = *v;
    }
    if (operand.is_string()) {
      const double v = is_int ? js::parse_int(operand.text()) : js::parse_float(operand.text());
      if (std::isnan(v)) return fallback;
      return is_int ? Value::integer(v) : Value::floating(v);
    }
    if (operand.is_number()) return operand;
    if (operand.type == Value::Type::kBool)
      return is_int ? Value::integer(operand.boolean ? 1 : 0) : Value::floating(operand.boolean ? 1 : 0);
    cannot_apply(name, operand);
  }
  if (name == "default") {
    const CallArgs args = evaluate_args();
    const Value fallback = args.positional.empty() ? Value::string("") : args.positional[0];
    Value boolean = Value::boolean_value(false);
    if (args.positional.size() > 1) {
      boolean = args.positional[1];
    } else if (const Value* v = args.kwarg("boolean")) {
      boolean = *v;
    }
    if (boolean.type != Value::Type::kBool) fail("`default` filter flag must be a boolean");
    if (operand.is_undefined() || (boolean.boolean && !truthy(operand))) return fallback;
    return operand;
  }

  if (operand.is_array()) {
    if (name == "sort") return sort_array(in, operand, evaluate_args());
    if (name == "map") return map_attribute(in, operand, evaluate_args());
    fail("Unknown ArrayValue filter: " + name);
  }
  if (operand.is_string()) {
    if (name == "indent") {
      const CallArgs args = evaluate_args();
      auto arg = [&](size_t i, const char* key, Value fallback) {
        if (i < args.positional.size()) return args.positional[i];
        if (const Value* v = args.kwarg(key)) return *v;
        return fallback;
      };
      const Value width = arg(0, "width", Value::integer(4));
      if (width.type != Value::Type::kInt) fail("width must be a number");
      return indent(in, operand.text(), width.number, truthy(arg(1, "first", Value::boolean_value(false))),
                    truthy(arg(2, "blank", Value::boolean_value(false))));
    }
    if (name == "replace") {
      CallArgs args = evaluate_args();
      Environment scratch;
      return in.call(builtin_member(in, operand, "replace"), args, scratch);
    }
    fail("Unknown StringValue filter: " + name);
  }
  if (operand.is_object()) {
    const Value builtin = builtin_member(in, operand, name);
    if (builtin.type == Value::Type::kFunction) {
      CallArgs args = evaluate_args();
      Environment scratch;
      return in.call(builtin, args, scratch);
    }
    fail("Unknown ObjectValue filter: " + name);
  }
  cannot_apply(name, operand);
}

}  // namespace

Value apply_filter(Interpreter& in, const Value& operand, const Node& filter, Environment& env) {
  if (filter.kind == NodeKind::kIdentifier) return plain_filter(in, operand, filter.text);
  if (filter.kind == NodeKind::kCall) return call_filter(in, operand, filter, env);
  fail("Unknown filter: the filter is not a name or a call");
}

}  // namespace dseek::jinja
