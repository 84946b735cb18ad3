// The tojson filter, written as the reference's toJSON: JSON.stringify for
// scalars (no escaping of '/', '<' or non-ASCII unless ensure_ascii), ", " and
// ": " separators by default, "," and ": " with an indent.
#pragma once

#include <string>
#include <string_view>

#include "chat/jinja/value.h"

namespace dseek::jinja {

struct JsonOptions {
  int indent = 0;  // 0: none; negative fails once a list or dict is written, like " ".repeat(-1)
  bool ensure_ascii = false;
  bool sort_keys = false;  // by code point (the reference uses localeCompare)
  bool has_separators = false;
  std::string item_separator;
  std::string key_separator;
  // Fails once the text would exceed this many bytes (values share their
  // parts, so a small value can print as an enormous text).
  size_t max_bytes = kMaxTextBytes;
};

// undefined_as_null: tojson writes undefined as null; printing an array
// ({{ [x] }}) writes it as undefined. Fails on functions, tuples and values
// nested deeper than kMaxValueDepth (cycles through namespaces included).
std::string to_json(const Value& v, const JsonOptions& options, bool undefined_as_null);

// JSON.stringify of one string (escapes ", \, and controls as \n or \u00XX).
void append_json_string(std::string_view s, bool ensure_ascii, std::string& out);

// The from_json filter (not in the reference; the DeepSeek V3.2 and V4
// templates use it on tool-call arguments): JSON text to a value.
Value parse_json_value(std::string_view text);

}  // namespace dseek::jinja
