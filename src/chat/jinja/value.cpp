#include "chat/jinja/value.h"

#include <cmath>

#include "chat/jinja/js_text.h"
#include "chat/jinja/json_text.h"

namespace dseek::jinja {

Value Value::null() {
  Value v;
  v.type = Type::kNull;
  return v;
}

Value Value::boolean_value(bool b) {
  Value v;
  v.type = Type::kBool;
  v.boolean = b;
  return v;
}

Value Value::integer(double n) {
  Value v;
  v.type = Type::kInt;
  v.number = n;
  return v;
}

Value Value::floating(double n) {
  Value v;
  v.type = Type::kFloat;
  v.number = n;
  return v;
}

Value Value::string(std::string s) { return string(std::make_shared<const std::string>(std::move(s))); }

Value Value::string(std::shared_ptr<const std::string> s) {
  Value v;
  v.type = Type::kString;
  v.str = std::move(s);
  return v;
}

Value Value::make_array(std::vector<Value> items, bool tuple) {
  int depth = 1;
  for (const Value& item : items) depth = std::max(depth, item.depth() + 1);
  if (depth > kMaxValueDepth) fail("values nested deeper than " + std::to_string(kMaxValueDepth) + " levels");
  auto data = std::make_shared<ArrayData>();
  data->items = std::move(items);
  data->depth = depth;
  Value v;
  v.type = Type::kArray;
  v.is_tuple = tuple;
  v.array = std::move(data);
  return v;
}

Value Value::make_object(std::shared_ptr<Dict> dict) {
  int depth = 1;
  for (const auto& entry : dict->entries) depth = std::max(depth, entry.second.depth() + 1);
  if (depth > kMaxValueDepth) fail("values nested deeper than " + std::to_string(kMaxValueDepth) + " levels");
  dict->depth = depth;
  Value v;
  v.type = Type::kObject;
  v.dict = std::move(dict);
  return v;
}

Value Value::make_namespace(std::shared_ptr<Dict> dict) {
  Value v;
  v.type = Type::kNamespace;
  v.dict = std::move(dict);
  return v;
}

Value Value::make_function(std::shared_ptr<const Callable> fn) {
  Value v;
  v.type = Type::kFunction;
  v.function = std::move(fn);
  return v;
}

const std::vector<Value>& Value::items() const { return array->items; }

const char* Value::type_name() const {
  switch (type) {
    case Type::kUndefined: return "UndefinedValue";
    case Type::kNull: return "NullValue";
    case Type::kBool: return "BooleanValue";
    case Type::kInt: return "IntegerValue";
    case Type::kFloat: return "FloatValue";
    case Type::kString: return "StringValue";
    case Type::kArray: return is_tuple ? "TupleValue" : "ArrayValue";
    case Type::kObject: return "ObjectValue";
    case Type::kNamespace: return "NamespaceValue";
    case Type::kFunction: return "FunctionValue";
  }
  return "?";
}

int Value::depth() const {
  // A namespace counts as one level: it may change after the arrays holding
  // it were made, and the interpreter empties every namespace after a render,
  // so nothing recursive is left to destroy.
  if (type == Type::kArray) return array->depth;
  if (type == Type::kObject) return dict->depth;
  if (type == Type::kNamespace) return 1;
  return 0;
}

const Value* Dict::find(std::string_view key) const {
  auto it = index.find(std::string(key));
  return it == index.end() ? nullptr : &entries[it->second].second;
}

void Dict::set(const std::string& key, Value value) {
  auto it = index.find(key);
  if (it != index.end()) {
    entries[it->second].second = std::move(value);
    return;
  }
  index.emplace(key, entries.size());
  entries.emplace_back(key, std::move(value));
}

const Value* CallArgs::kwarg(std::string_view name) const {
  for (const auto& kv : keyword)
    if (kv.first == name) return &kv.second;
  return nullptr;
}

namespace {

Value from_json_at(const nlohmann::ordered_json& j, int depth) {
  if (depth > kMaxValueDepth) fail("JSON input nested deeper than " + std::to_string(kMaxValueDepth) + " levels");
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null:
      return Value::null();
    case nlohmann::ordered_json::value_t::boolean:
      return Value::boolean_value(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer:
      return Value::integer(static_cast<double>(j.get<int64_t>()));
    case nlohmann::ordered_json::value_t::number_unsigned:
      return Value::integer(static_cast<double>(j.get<uint64_t>()));
    case nlohmann::ordered_json::value_t::number_float: {
      const double d = j.get<double>();
      // Number.isInteger: 1.0 from JSON is the integer 1 in the reference.
      if (std::isfinite(d) && std::fmod(d, 1.0) == 0) return Value::integer(d);
      return Value::floating(d);
    }
    case nlohmann::ordered_json::value_t::string:
      return Value::string(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (const auto& item : j) items.push_back(from_json_at(item, depth + 1));
      return Value::make_array(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      auto dict = std::make_shared<Dict>();
      for (const auto& [key, item] : j.items()) dict->set(key, from_json_at(item, depth + 1));
      return Value::make_object(std::move(dict));
    }
    default:
      fail("unsupported JSON value (binary)");
  }
}

}  // namespace

Value from_json(const nlohmann::ordered_json& j) { return from_json_at(j, 0); }

std::string to_output_string(const Value& v, size_t max_bytes) {
  switch (v.type) {
    case Value::Type::kUndefined:
    case Value::Type::kNull:  // the reference's NullValue holds JavaScript undefined
      return "undefined";
    case Value::Type::kBool:
      return v.boolean ? "true" : "false";
    case Value::Type::kInt:
      return js::number_to_string(v.number);
    case Value::Type::kFloat:
      return js::float_to_string(v.number);
    case Value::Type::kString:
      return v.text();
    case Value::Type::kArray:
    case Value::Type::kObject:
    case Value::Type::kNamespace: {
      JsonOptions options;
      options.max_bytes = max_bytes;
      return to_json(v, options, false);
    }
    case Value::Type::kFunction:
      fail("cannot print a function");
  }
  return {};
}

std::string to_raw_string(const Value& v, size_t max_bytes) {
  switch (v.type) {
    case Value::Type::kInt:
    case Value::Type::kFloat:
      return js::number_to_string(v.number);
    case Value::Type::kArray: {
      // Array.prototype.toString: the elements' toString(), joined by ",".
      std::string out;
      bool first = true;
      for (const Value& item : v.items()) {
        if (!first) out += ',';
        first = false;
        out += to_output_string(item, max_bytes);
        if (out.size() > max_bytes) fail("value larger than the limit of " + std::to_string(max_bytes) + " bytes as text");
      }
      return out;
    }
    case Value::Type::kObject:
    case Value::Type::kNamespace:
      return "[object Map]";
    default:
      return to_output_string(v, max_bytes);
  }
}

bool truthy(const Value& v) {
  switch (v.type) {
    case Value::Type::kUndefined:
    case Value::Type::kNull:
      return false;
    case Value::Type::kBool:
      return v.boolean;
    case Value::Type::kInt:
    case Value::Type::kFloat:
      return v.number != 0 && !std::isnan(v.number);
    case Value::Type::kString:
      return !v.text().empty();
    case Value::Type::kArray:
      return !v.items().empty();
    case Value::Type::kObject:
      return v.dict->size() > 0;
    case Value::Type::kNamespace:
    case Value::Type::kFunction:
      return true;
  }
  return false;
}

namespace {

// The JavaScript type of value.value.
enum class JsKind { kUndefined, kBoolean, kNumber, kString, kObject };

JsKind js_kind(const Value& v) {
  switch (v.type) {
    case Value::Type::kUndefined:
    case Value::Type::kNull:
      return JsKind::kUndefined;
    case Value::Type::kBool:
      return JsKind::kBoolean;
    case Value::Type::kInt:
    case Value::Type::kFloat:
      return JsKind::kNumber;
    case Value::Type::kString:
      return JsKind::kString;
    default:
      return JsKind::kObject;
  }
}

bool same_object(const Value& a, const Value& b) {
  if (a.type == Value::Type::kArray && b.type == Value::Type::kArray) return a.array == b.array;
  if (a.is_dict() && b.is_dict()) return a.dict == b.dict;
  if (a.type == Value::Type::kFunction && b.type == Value::Type::kFunction) return a.function == b.function;
  return false;
}

bool same_kind_equal(const Value& a, const Value& b, JsKind kind) {
  switch (kind) {
    case JsKind::kUndefined: return true;
    case JsKind::kBoolean: return a.boolean == b.boolean;
    case JsKind::kNumber: return a.number == b.number;
    case JsKind::kString: return a.text() == b.text();
    case JsKind::kObject: return same_object(a, b);
  }
  return false;
}

double to_number(const Value& v) {
  switch (js_kind(v)) {
    case JsKind::kBoolean: return v.boolean ? 1 : 0;
    case JsKind::kNumber: return v.number;
    case JsKind::kString: return js::string_to_number(v.text());
    default: return std::nan("");
  }
}

}  // namespace

bool loose_equals(const Value& a, const Value& b) {
  const JsKind ka = js_kind(a);
  const JsKind kb = js_kind(b);
  if (ka == kb) return same_kind_equal(a, b, ka);
  if (ka == JsKind::kUndefined || kb == JsKind::kUndefined) return false;
  if (ka == JsKind::kBoolean) return loose_equals(Value::integer(to_number(a)), b);
  if (kb == JsKind::kBoolean) return loose_equals(a, Value::integer(to_number(b)));
  if (ka == JsKind::kObject || kb == JsKind::kObject) {
    // ToPrimitive(object) is its text. Only a text no longer than the string
    // (or a short numeric text) can compare equal, so the conversion is cut
    // there: a shared structure cannot make == print gigabytes.
    const Value& object = ka == JsKind::kObject ? a : b;
    const Value& other = ka == JsKind::kObject ? b : a;
    const size_t cap = other.is_string() ? other.text().size() : 4096;
    std::string text;
    try {
      text = to_raw_string(object, cap);
    } catch (const Failure&) {
      return false;
    }
    if (text.size() > cap) return false;
    return loose_equals(Value::string(std::move(text)), other);
  }
  // number and string
  return to_number(a) == to_number(b);
}

bool strict_equals(const Value& a, const Value& b) {
  const JsKind ka = js_kind(a);
  return ka == js_kind(b) && same_kind_equal(a, b, ka);
}

}  // namespace dseek::jinja
