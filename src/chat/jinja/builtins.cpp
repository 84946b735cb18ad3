// Methods of built-in values (s.split(), d.items()...), the `is` tests and
// the global functions, as the reference defines them (runtime.ts).
#include "chat/jinja/builtins.h"

#include <algorithm>
#include <cmath>
#include <ctime>

#include "chat/jinja/js_text.h"

namespace dseek::jinja {

namespace {

Value method(std::string name, std::function<Value(Interpreter&, CallArgs&)> body) {
  auto fn = std::make_shared<Callable>();
  fn->name = std::move(name);
  fn->call = [body = std::move(body)](Interpreter& in, CallArgs& args, Environment&) { return body(in, args); };
  return Value::make_function(std::move(fn));
}

std::string title_case(const std::string& s) {
  // /\b\w/g with ASCII word characters, as in JavaScript.
  std::string out = s;
  for (size_t i = 0; i < out.size(); ++i) {
    const bool starts_word = js::is_word_byte(s[i]) && (i == 0 || !js::is_word_byte(s[i - 1]));
    if (starts_word && out[i] >= 'a' && out[i] <= 'z') out[i] = static_cast<char>(out[i] - 'a' + 'A');
  }
  return out;
}

Value starts_or_ends_with(const std::string& s, const CallArgs& args, bool starts, const char* name) {
  if (args.positional.empty() && args.keyword.empty())
    fail(std::string(name) + "() requires at least one argument");
  auto test = [&](const std::string& p) {
    if (p.size() > s.size()) return false;
    return starts ? s.compare(0, p.size(), p) == 0 : s.compare(s.size() - p.size(), p.size(), p) == 0;
  };
  const Value* pattern = args.positional.empty() ? nullptr : &args.positional[0];
  if (pattern != nullptr && pattern->is_string()) return Value::boolean_value(test(pattern->text()));
  if (pattern != nullptr && pattern->is_array()) {
    for (const Value& item : pattern->items()) {
      if (!item.is_string()) fail(std::string(name) + "() tuple elements must be strings");
      if (test(item.text())) return Value::boolean_value(true);
    }
    return Value::boolean_value(false);
  }
  fail(std::string(name) + "() argument must be a string or tuple of strings");
}

Value split(Interpreter& in, const std::string& s, const CallArgs& args) {
  // The reference passes keyword arguments as one trailing argument, which
  // then fails the type checks below.
  const bool sep_is_kwargs = args.positional.empty() && !args.keyword.empty();
  const bool max_is_kwargs = args.positional.size() == 1 && !args.keyword.empty();
  const Value sep = args.positional.empty() ? Value::null() : args.positional[0];
  if (sep_is_kwargs || !(sep.is_string() || sep.is_null())) fail("sep argument must be a string or null");
  const Value maxsplit = args.positional.size() > 1 ? args.positional[1] : Value::integer(-1);
  if (max_is_kwargs || maxsplit.type != Value::Type::kInt) fail("maxsplit argument must be a number");
  const double max = maxsplit.number;

  std::vector<std::string> parts;
  if (sep.is_null()) {
    const std::string text = js::trim(s, true, false);
    size_t i = 0;
    while (i < text.size()) {
      size_t word = i;  // start of the next run of non-space characters
      while (word < text.size()) {
        size_t next = word;
        if (!js::is_space(js::decode_utf8(text, next))) break;
        word = next;
      }
      if (word >= text.size()) break;
      size_t end = word;
      while (end < text.size()) {
        size_t next = end;
        if (js::is_space(js::decode_utf8(text, next))) break;
        end = next;
      }
      if (max != -1 && static_cast<double>(parts.size()) >= max) {
        parts.push_back(text.substr(word));
        break;
      }
      parts.push_back(text.substr(word, end - word));
      i = end;
    }
  } else {
    const std::string& d = sep.text();
    if (d.empty()) fail("empty separator");
    size_t start = 0;
    for (;;) {
      const size_t at = s.find(d, start);
      if (at == std::string::npos) {
        parts.push_back(s.substr(start));
        break;
      }
      parts.push_back(s.substr(start, at - start));
      start = at + d.size();
    }
    const double n = static_cast<double>(parts.size());
    if (max != -1 && n > max) {
      // result.push(result.splice(maxsplit).join(sep))
      const auto k = static_cast<size_t>(max < 0 ? std::max(n + max, 0.0) : max);
      std::string rest;
      for (size_t i = k; i < parts.size(); ++i) {
        if (i > k) rest += d;
        rest += parts[i];
      }
      parts.resize(k);
      parts.push_back(std::move(rest));
    }
  }
  std::vector<Value> items;
  items.reserve(parts.size());
  for (std::string& p : parts) items.push_back(in.make_string(std::move(p)));
  return in.make_array(std::move(items));
}

Value replace(Interpreter& in, const std::string& s, const CallArgs& args) {
  if (args.positional.size() + (args.keyword.empty() ? 0 : 1) < 2) fail("replace() requires at least two arguments");
  if (args.positional.size() < 2 || !args.positional[0].is_string() || !args.positional[1].is_string())
    fail("replace() arguments must be strings");
  const std::string& from = args.positional[0].text();
  const std::string& to = args.positional[1].text();
  Value count = Value::null();
  if (args.positional.size() > 2) {
    count = args.positional[2];
  } else if (const Value* c = args.kwarg("count")) {
    count = *c;
  }
  if (count.type != Value::Type::kInt && !count.is_null()) fail("replace() count argument must be a number or null");
  if (count.type == Value::Type::kInt && count.number == 0) return Value::string(s);
  double remaining = count.is_null() || count.number < 0 ? INFINITY : count.number;
  std::string out;
  if (from.empty()) {
    // An empty pattern matches before every code point and at the end.
    for (size_t i = 0; i <= s.size();) {
      if (remaining > 0) {
        out += to;
        --remaining;
      }
      in.check_size(out.size());
      if (i == s.size()) break;
      const size_t begin = i;
      js::decode_utf8(s, i);
      out.append(s, begin, i - begin);
    }
    return in.make_string(std::move(out));
  }
  size_t start = 0;
  while (remaining > 0) {
    const size_t at = s.find(from, start);
    if (at == std::string::npos) break;
    out.append(s, start, at - start);
    out += to;
    in.check_size(out.size());
    start = at + from.size();
    --remaining;
  }
  out.append(s, start, std::string::npos);
  return in.make_string(std::move(out));
}

Value string_member(const Value& object, const std::string& name) {
  const auto str = object.str;
  const std::string& s = *str;
  if (name == "length") return Value::integer(static_cast<double>(js::utf16_length(s)));
  if (name == "upper") return method(name, [str](Interpreter& in, CallArgs&) { return in.make_string(js::to_upper(*str)); });
  if (name == "lower") return method(name, [str](Interpreter& in, CallArgs&) { return in.make_string(js::to_lower(*str)); });
  // strip/lstrip/rstrip take no characters to strip in the reference: always whitespace.
  if (name == "strip")
    return method(name, [str](Interpreter& in, CallArgs&) { return in.make_string(js::trim(*str, true, true)); });
  if (name == "lstrip")
    return method(name, [str](Interpreter& in, CallArgs&) { return in.make_string(js::trim(*str, true, false)); });
  if (name == "rstrip")
    return method(name, [str](Interpreter& in, CallArgs&) { return in.make_string(js::trim(*str, false, true)); });
  if (name == "title") return method(name, [str](Interpreter& in, CallArgs&) { return in.make_string(title_case(*str)); });
  if (name == "capitalize")
    return method(name, [str](Interpreter& in, CallArgs&) {
      if (str->empty()) return Value::string("");
      size_t i = 0;
      js::decode_utf8(*str, i);
      return in.make_string(js::to_upper(str->substr(0, i)) + str->substr(i));
    });
  if (name == "startswith")
    return method(name, [str](Interpreter&, CallArgs& a) { return starts_or_ends_with(*str, a, true, "startswith"); });
  if (name == "endswith")
    return method(name, [str](Interpreter&, CallArgs& a) { return starts_or_ends_with(*str, a, false, "endswith"); });
  if (name == "split") return method(name, [str](Interpreter& in, CallArgs& a) { return split(in, *str, a); });
  if (name == "replace") return method(name, [str](Interpreter& in, CallArgs& a) { return replace(in, *str, a); });
  return Value::undefined();
}

Value dictsort(Interpreter& in, const Dict& d, const CallArgs& args) {
  auto arg = [&](size_t i, const char* key, Value fallback) {
    if (i < args.positional.size()) return args.positional[i];
    if (const Value* v = args.kwarg(key)) return *v;
    return fallback;
  };
  const Value case_sensitive = arg(0, "case_sensitive", Value::boolean_value(false));
  if (case_sensitive.type != Value::Type::kBool) fail("case_sensitive must be a boolean");
  const Value by = arg(1, "by", Value::string("key"));
  if (!by.is_string()) fail("by must be a string");
  if (by.text() != "key" && by.text() != "value") fail("by must be either 'key' or 'value'");
  const Value reverse = arg(2, "reverse", Value::boolean_value(false));
  if (reverse.type != Value::Type::kBool) fail("reverse must be a boolean");
  std::vector<Value> items = dict_items(in, d).items();
  const size_t index = by.text() == "key" ? 0 : 1;
  std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
    const int c = compare_values(a.items()[index], b.items()[index], case_sensitive.boolean);
    return reverse.boolean ? c > 0 : c < 0;
  });
  return in.make_array(std::move(items));
}

Value object_member(const Value& object, const std::string& name) {
  const auto dict = object.dict;
  if (name == "get")
    return method(name, [dict](Interpreter&, CallArgs& a) -> Value {
      if (a.positional.empty() || !a.positional[0].is_string())
        fail(std::string("Object key must be a string: got ") +
             (a.positional.empty() ? "nothing" : a.positional[0].type_name()));
      if (const Value* v = dict->find(a.positional[0].text())) return *v;
      return a.positional.size() > 1 ? a.positional[1] : Value::null();
    });
  if (name == "items") return method(name, [dict](Interpreter& in, CallArgs&) { return dict_items(in, *dict); });
  if (name == "keys")
    return method(name, [dict](Interpreter& in, CallArgs&) {
      std::vector<Value> keys;
      for (const auto& e : dict->entries) keys.push_back(Value::string(e.first));
      return in.make_array(std::move(keys));
    });
  if (name == "values")
    return method(name, [dict](Interpreter& in, CallArgs&) {
      std::vector<Value> values;
      for (const auto& e : dict->entries) values.push_back(e.second);
      return in.make_array(std::move(values));
    });
  if (name == "dictsort")
    return method(name, [dict](Interpreter& in, CallArgs& a) { return dictsort(in, *dict, a); });
  return Value::undefined();
}

std::string raw_arg(const CallArgs& args) {
  // The reference calls global JavaScript functions with raw values.
  if (args.positional.empty()) return "";
  const Value& v = args.positional[0];
  if (v.is_null() || v.is_undefined()) return "";
  return to_raw_string(v);
}

Value range(Interpreter& in, CallArgs& args) {
  if (!args.keyword.empty()) fail("range() takes no keyword arguments");
  auto number = [](const Value& v, const char* what) {
    if (!v.is_number()) fail(std::string("range() ") + what + " must be a number");
    return v.number;
  };
  if (args.positional.empty()) fail("range() expected at least 1 argument");
  double start = number(args.positional[0], "start");
  double stop = 0;
  const bool has_stop = args.positional.size() > 1 && !args.positional[1].is_null() && !args.positional[1].is_undefined();
  if (has_stop) {
    stop = number(args.positional[1], "stop");
  } else {
    stop = start;
    start = 0;
  }
  const double step = args.positional.size() > 2 ? number(args.positional[2], "step") : 1;
  if (step == 0) fail("range() step must not be zero");
  const double count = std::ceil((stop - start) / step);
  if (count > static_cast<double>(in.limits().max_list_items))
    fail("range() of " + js::number_to_string(count) + " items is longer than the render's list limit");
  std::vector<Value> items;
  for (double i = start; step > 0 ? i < stop : i > stop; i += step) {
    items.push_back(std::fmod(i, 1.0) == 0 ? Value::integer(i) : Value::floating(i));
  }
  return in.make_array(std::move(items));
}

Value strftime_now(Interpreter& in, CallArgs& args) {
  if (args.positional.empty() || !args.positional[0].is_string()) fail("strftime_now() needs a format string");
  const std::time_t t = in.now() ? static_cast<std::time_t>(*in.now()) : std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  static const char* const kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                                        "July",    "August",   "September", "October", "November", "December"};
  auto pad2 = [](int n) {
    std::string s = std::to_string(n);
    if (n < 10) s.insert(s.begin(), '0');
    return s;
  };
  const std::string& f = args.positional[0].text();
  std::string out;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%' || i + 1 >= f.size()) {
      out += f[i];
      continue;
    }
    switch (f[i + 1]) {
      case 'Y': out += std::to_string(tm.tm_year + 1900); break;
      case 'm': out += pad2(tm.tm_mon + 1); break;
      case 'd': out += pad2(tm.tm_mday); break;
      case 'b': out += std::string(kMonths[tm.tm_mon]).substr(0, 3); break;
      case 'B': out += kMonths[tm.tm_mon]; break;
      case 'H': out += pad2(tm.tm_hour); break;
      case 'M': out += pad2(tm.tm_min); break;
      case '%': out += '%'; break;
      default:
        out += f[i];
        continue;
    }
    ++i;
  }
  return in.make_string(std::move(out));
}

Value make_namespace(Interpreter& in, CallArgs& args) {
  if (args.positional.size() > 1)
    fail("namespace expected at most 1 argument, got " + std::to_string(args.positional.size()));
  auto dict = in.new_namespace();
  if (args.positional.size() == 1) {
    const Value& source = args.positional[0];
    if (source.is_object()) {
      for (const auto& [k, v] : source.dict->entries) dict->set(k, v);
    } else if (source.is_array()) {
      for (const Value& pair : source.items()) {
        std::vector<Value> kv;
        if (pair.is_array()) {
          kv = pair.items();
        } else if (pair.is_string()) {
          for (size_t i = 0; i < pair.text().size();) {
            const size_t begin = i;
            js::decode_utf8(pair.text(), i);
            kv.push_back(Value::string(pair.text().substr(begin, i - begin)));
          }
        }
        if (kv.size() != 2) fail("namespace expected an object or an iterable of [key, value] pairs");
        if (!kv[0].is_string()) fail("namespace keys must be strings");
        dict->set(kv[0].text(), kv[1]);
      }
    } else {
      fail(std::string("'") + source.type_name() + "' object is not iterable");
    }
  }
  for (const auto& [k, v] : args.keyword) dict->set(k, v);
  return Value::make_namespace(std::move(dict));
}

}  // namespace

Value dict_items(Interpreter& in, const Dict& d) {
  std::vector<Value> items;
  items.reserve(d.entries.size());
  for (const auto& [k, v] : d.entries) items.push_back(Value::make_array({Value::string(k), v}));
  return in.make_array(std::move(items));
}

Value builtin_member(Interpreter& in, const Value& object, const std::string& name) {
  if (object.is_string()) return string_member(object, name);
  if (object.is_array()) {
    if (name == "length") return Value::integer(static_cast<double>(object.items().size()));
    return Value::undefined();
  }
  if (object.is_object()) return object_member(object, name);
  return Value::undefined();
}

bool run_test(const std::string& name, const Value& v, const Value* argument, bool& known) {
  known = true;
  using T = Value::Type;
  if (name == "boolean") return v.type == T::kBool;
  if (name == "callable") return v.type == T::kFunction;
  if (name == "odd" || name == "even") {
    if (v.type != T::kInt) fail("cannot " + name + " on " + v.type_name());
    const bool odd = std::fmod(v.number, 2) != 0;
    return name == "odd" ? odd : !odd;
  }
  if (name == "false") return v.type == T::kBool && !v.boolean;
  if (name == "true") return v.type == T::kBool && v.boolean;
  if (name == "none") return v.type == T::kNull;
  if (name == "string") return v.type == T::kString;
  if (name == "number") return v.is_number();
  if (name == "integer") return v.type == T::kInt;
  if (name == "iterable") return (v.type == T::kArray && !v.is_tuple) || v.type == T::kString;
  if (name == "mapping") return v.type == T::kObject;
  if (name == "sequence") return v.type == T::kArray || v.type == T::kObject || v.type == T::kString;
  if (name == "lower") return v.type == T::kString && v.text() == js::to_lower(v.text());
  if (name == "upper") return v.type == T::kString && v.text() == js::to_upper(v.text());
  if (name == "defined") return v.type != T::kUndefined;
  if (name == "undefined") return v.type == T::kUndefined;
  if (name == "equalto" || name == "eq") {
    if (argument == nullptr) fail("the " + name + " test needs a value to compare with");
    return strict_equals(v, *argument);
  }
  known = false;
  return false;
}

Value attribute_path(const Value& item, const std::string& path) {
  Value v = item;
  size_t start = 0;
  for (;;) {
    const size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (v.is_dict()) {
      const Value* found = v.dict->find(part);
      v = found != nullptr ? *found : Value::undefined();
    } else if (v.is_array()) {
      const double index = js::parse_int(part);
      if (std::isnan(index) || index < 0 || index >= static_cast<double>(v.items().size())) return Value::undefined();
      v = v.items()[static_cast<size_t>(index)];
    } else {
      return Value::undefined();
    }
    if (dot == std::string::npos) return v;
    start = dot + 1;
  }
}

void install_globals(Environment& globals) {
  auto fn = [](std::string name, std::function<Value(Interpreter&, CallArgs&)> body) {
    return method(std::move(name), std::move(body));
  };
  globals.set("namespace", fn("namespace", make_namespace));
  globals.set("false", Value::boolean_value(false));
  globals.set("true", Value::boolean_value(true));
  globals.set("none", Value::null());
  globals.set("raise_exception", fn("raise_exception", [](Interpreter&, CallArgs& a) -> Value {
                fail("raise_exception: " + raw_arg(a));
              }));
  globals.set("range", fn("range", range));
  globals.set("strftime_now", fn("strftime_now", strftime_now));
  globals.set("True", Value::boolean_value(true));
  globals.set("False", Value::boolean_value(false));
  globals.set("None", Value::null());
}

}  // namespace dseek::jinja
