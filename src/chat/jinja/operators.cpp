// Binary and unary operators, in the order the reference tries them
// (evaluateBinaryExpression): equality first, then undefined / none checks,
// ~, **, arithmetic on numbers, list concatenation, membership, string +.
#include <cmath>

#include "chat/jinja/builtins.h"
#include "chat/jinja/js_text.h"

namespace dseek::jinja {

namespace {

bool numeric_like(const Value& v) { return v.is_number() || v.type == Value::Type::kBool; }

double numeric_value(const Value& v) { return v.type == Value::Type::kBool ? (v.boolean ? 1 : 0) : v.number; }

std::u16string utf16(std::string_view s) {
  std::u16string out;
  for (size_t i = 0; i < s.size();) {
    const char32_t cp = js::decode_utf8(s, i);
    if (cp >= 0x10000) {
      out += static_cast<char16_t>(0xD800 + ((cp - 0x10000) >> 10));
      out += static_cast<char16_t>(0xDC00 + ((cp - 0x10000) & 0x3FF));
    } else {
      out += static_cast<char16_t>(cp);
    }
  }
  return out;
}

Value arithmetic(Interpreter& in, BinaryOp op, const Value& left, const Value& right, bool& handled) {
  handled = true;
  const double a = left.number;
  const double b = right.number;
  const bool is_float = left.type == Value::Type::kFloat || right.type == Value::Type::kFloat;
  auto number = [is_float](double v) { return is_float ? Value::floating(v) : Value::integer(v); };
  switch (op) {
    case BinaryOp::kAdd: return number(a + b);
    case BinaryOp::kSub: return number(a - b);
    case BinaryOp::kMul: return number(a * b);
    case BinaryOp::kDiv: return Value::floating(a / b);
    case BinaryOp::kFloorDiv: return number(std::floor(a / b));
    case BinaryOp::kMod: return number(std::fmod(a, b));  // JavaScript %: the sign of the dividend
    case BinaryOp::kLt: return Value::boolean_value(a < b);
    case BinaryOp::kGt: return Value::boolean_value(a > b);
    case BinaryOp::kGe: return Value::boolean_value(a >= b);
    case BinaryOp::kLe: return Value::boolean_value(a <= b);
    default:
      handled = false;
      return Value::undefined();
  }
}

}  // namespace

Value binary_operation(Interpreter& in, BinaryOp op, const std::string& spelling, const Value& left, const Value& right) {
  if (op == BinaryOp::kEq) return Value::boolean_value(loose_equals(left, right));
  if (op == BinaryOp::kNe) return Value::boolean_value(!loose_equals(left, right));
  const bool membership = op == BinaryOp::kIn || op == BinaryOp::kNotIn;

  if (left.is_undefined() || right.is_undefined()) {
    // `x in undefined` is false, `x not in undefined` true.
    if (right.is_undefined() && membership) return Value::boolean_value(op == BinaryOp::kNotIn);
    fail("Cannot perform operation " + spelling + " on undefined values");
  }
  if (left.is_null() || right.is_null()) fail("Cannot perform operation on null values");
  if (op == BinaryOp::kConcat) {
    std::string s = to_raw_string(left, in.limits().max_output_bytes);
    s += to_raw_string(right, in.limits().max_output_bytes);
    return in.make_string(std::move(s));
  }
  if (op == BinaryOp::kPow && numeric_like(left) && numeric_like(right)) {
    const double a = numeric_value(left);
    const double b = numeric_value(right);
    if (a == 0 && b < 0) fail("0.0 cannot be raised to a negative power");
    const double result = std::pow(a, b);
    if (!std::isfinite(result)) fail("Exponentiation result is not a finite real number");
    const bool is_float = left.type == Value::Type::kFloat || right.type == Value::Type::kFloat || b < 0;
    return is_float ? Value::floating(result) : Value::integer(result);
  }
  if (left.is_number() && right.is_number()) {
    bool handled = false;
    Value v = arithmetic(in, op, left, right, handled);
    if (handled) return v;
  } else if (left.is_array() && right.is_array()) {
    if (op == BinaryOp::kAdd) {
      std::vector<Value> items = left.items();
      items.insert(items.end(), right.items().begin(), right.items().end());
      return in.make_array(std::move(items));
    }
  } else if (right.is_array()) {
    if (membership) {
      bool found = false;
      for (const Value& item : right.items()) {
        if (strict_equals(item, left)) {
          found = true;
          break;
        }
      }
      in.charge(right.items().size());
      return Value::boolean_value(found == (op == BinaryOp::kIn));
    }
  }

  if ((left.is_string() || right.is_string()) && op == BinaryOp::kAdd) {
    std::string s = to_raw_string(left, in.limits().max_output_bytes);
    s += to_raw_string(right, in.limits().max_output_bytes);
    return in.make_string(std::move(s));
  }
  if (left.is_string() && right.is_string() && membership) {
    in.charge(right.text().size());
    const bool found = right.text().find(left.text()) != std::string::npos;
    return Value::boolean_value(found == (op == BinaryOp::kIn));
  }
  if (left.is_string() && right.is_object() && membership) {
    const bool found = right.dict->find(left.text()) != nullptr;
    return Value::boolean_value(found == (op == BinaryOp::kIn));
  }
  fail("Unknown operator \"" + spelling + "\" between " + left.type_name() + " and " + right.type_name());
}

Value unary_sign(const std::string& op, const Value& v) {
  const double sign = op == "-" ? -1 : 1;
  if (v.is_number() || v.type == Value::Type::kBool) {
    const double result = sign * numeric_value(v);
    return v.type == Value::Type::kFloat ? Value::floating(result) : Value::integer(result);
  }
  fail("Unknown operator \"" + op + "\" for " + v.type_name());
}

int compare_values(const Value& a, const Value& b, bool case_sensitive) {
  if (a.is_null() && b.is_null()) return 0;
  if (a.is_null() || b.is_null()) fail(std::string("Cannot compare ") + a.type_name() + " with " + b.type_name());
  if (a.is_undefined() && b.is_undefined()) return 0;
  if (a.is_undefined() || b.is_undefined())
    fail(std::string("Cannot compare ") + a.type_name() + " with " + b.type_name());
  if (numeric_like(a) && numeric_like(b)) {
    const double x = numeric_value(a);
    const double y = numeric_value(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (std::string_view(a.type_name()) != b.type_name())
    fail(std::string("Cannot compare different types: ") + a.type_name() + " and " + b.type_name());
  if (a.is_string()) {
    // JavaScript compares strings by UTF-16 code unit.
    const std::u16string x = utf16(case_sensitive ? a.text() : js::to_lower(a.text()));
    const std::u16string y = utf16(case_sensitive ? b.text() : js::to_lower(b.text()));
    return x < y ? -1 : x > y ? 1 : 0;
  }
  fail(std::string("Cannot compare type: ") + a.type_name());
}

}  // namespace dseek::jinja
