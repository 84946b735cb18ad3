#include "chat/jinja/json_text.h"

#include <algorithm>
#include <cmath>

#include "chat/jinja/js_text.h"

namespace dseek::jinja {

namespace {

const char kHex[] = "0123456789abcdef";

void append_u_escape(unsigned unit, std::string& out) {
  out += "\\u";
  out += kHex[(unit >> 12) & 0xF];
  out += kHex[(unit >> 8) & 0xF];
  out += kHex[(unit >> 4) & 0xF];
  out += kHex[unit & 0xF];
}

struct Writer {
  const JsonOptions& options;
  bool undefined_as_null;
  std::string item_sep;
  std::string key_sep;
  std::string indent_unit;
  std::string& out;

  void check_size() const {
    if (out.size() > options.max_bytes) fail("value larger than the limit of " + std::to_string(options.max_bytes) + " bytes as JSON text");
  }

  void padding(int depth) {
    out += '\n';
    for (int i = 0; i < depth; ++i) out += indent_unit;
    check_size();
  }

  void write(const Value& v, int depth) {
    if (depth > kMaxValueDepth) fail("tojson: values nested deeper than " + std::to_string(kMaxValueDepth) + " levels");
    switch (v.type) {
      case Value::Type::kNull:
        out += "null";
        return;
      case Value::Type::kUndefined:
        out += undefined_as_null ? "null" : "undefined";
        return;
      case Value::Type::kBool:
        out += v.boolean ? "true" : "false";
        return;
      case Value::Type::kInt:
      case Value::Type::kFloat:
        out += std::isfinite(v.number) ? js::number_to_string(v.number) : "null";
        return;
      case Value::Type::kString:
        append_json_string(v.text(), options.ensure_ascii, out);
        check_size();
        return;
      case Value::Type::kArray:
        if (v.is_tuple) fail("Cannot convert to JSON: TupleValue");
        write_array(v.items(), depth);
        return;
      case Value::Type::kObject:
      case Value::Type::kNamespace:
        write_object(*v.dict, depth);
        return;
      case Value::Type::kFunction:
        fail("Cannot convert to JSON: FunctionValue");
    }
  }

  void check_indent() const {
    // " ".repeat(indent) runs only for arrays and objects.
    if (options.indent < 0) fail("Invalid count value: " + std::to_string(options.indent));
  }

  void write_array(const std::vector<Value>& items, int depth) {
    check_indent();
    const bool indented = !indent_unit.empty() && !items.empty();
    out += '[';
    for (size_t i = 0; i < items.size(); ++i) {
      if (i > 0) out += item_sep;
      if (indented) padding(depth + 1);
      write(items[i], depth + 1);
      check_size();
    }
    if (indented) padding(depth);
    out += ']';
  }

  void write_object(const Dict& dict, int depth) {
    check_indent();
    std::vector<const std::pair<std::string, Value>*> entries;
    entries.reserve(dict.entries.size());
    for (const auto& e : dict.entries) entries.push_back(&e);
    if (options.sort_keys)
      std::stable_sort(entries.begin(), entries.end(), [](auto* a, auto* b) { return a->first < b->first; });
    const bool indented = !indent_unit.empty() && !entries.empty();
    out += '{';
    for (size_t i = 0; i < entries.size(); ++i) {
      if (i > 0) out += item_sep;
      if (indented) padding(depth + 1);
      append_json_string(entries[i]->first, options.ensure_ascii, out);
      out += key_sep;
      write(entries[i]->second, depth + 1);
      check_size();
    }
    if (indented) padding(depth);
    out += '}';
  }
};

}  // namespace

void append_json_string(std::string_view s, bool ensure_ascii, std::string& out) {
  out += '"';
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80 || (ensure_ascii && c == 0x7F)) {
      if (!ensure_ascii) {
        // Copy the sequence as it is (invalid bytes become U+FFFD, as the
        // text would have been decoded before it reached JavaScript).
        size_t next = i;
        const char32_t cp = js::decode_utf8(s, next);
        if (cp == 0xFFFD && next == i + 1) {
          js::append_utf8(0xFFFD, out);
        } else {
          out.append(s.substr(i, next - i));
        }
        i = next;
        continue;
      }
      const char32_t cp = js::decode_utf8(s, i);
      if (cp >= 0x10000) {
        const char32_t v = cp - 0x10000;
        append_u_escape(0xD800 + static_cast<unsigned>(v >> 10), out);
        append_u_escape(0xDC00 + static_cast<unsigned>(v & 0x3FF), out);
      } else {
        append_u_escape(static_cast<unsigned>(cp), out);
      }
      continue;
    }
    ++i;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          append_u_escape(c, out);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

std::string to_json(const Value& v, const JsonOptions& options, bool undefined_as_null) {
  std::string out;
  Writer w{options, undefined_as_null, {}, {}, {}, out};
  if (options.indent > 0) {
    if (static_cast<size_t>(options.indent) > options.max_bytes) fail("tojson: indent larger than the render limit");
    w.indent_unit.assign(static_cast<size_t>(options.indent), ' ');
  }
  if (options.has_separators) {
    w.item_sep = options.item_separator;
    w.key_sep = options.key_separator;
  } else {
    w.item_sep = options.indent != 0 ? "," : ", ";
    w.key_sep = ": ";
  }
  w.write(v, 0);
  return out;
}

Value parse_json_value(std::string_view text) {
  nlohmann::ordered_json j;
  try {
    j = nlohmann::ordered_json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    fail(std::string("from_json: the text is not JSON (") + e.what() + ")");
  }
  return from_json(j);
}

}  // namespace dseek::jinja
