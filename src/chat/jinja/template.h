// A Jinja template as Hugging Face chat templates use the language, rendered
// byte for byte as @huggingface/jinja (the renderer of transformers.js)
// renders it; tests/chat compares the two on the real DeepSeek templates.
//
// Known, deliberate differences from the reference:
//  - from_json is an extra filter (JSON text to a value);
//  - case mapping (upper, lower, capitalize) uses the C library's Unicode
//    tables, which may lag the reference's ICU by a Unicode version;
//  - tojson(sort_keys=true) orders keys by code point, not by locale;
//  - dict keys keep their JSON order, where JavaScript objects list
//    integer-like keys ("1", "2") first;
//  - printing a function value is an error (the reference prints JavaScript
//    source), as is `[] | first` printed (the reference crashes);
//  - every render is bounded (see RenderLimits), where the reference runs
//    until it runs out of memory or stack.
// Errors are Result errors whose message starts "line L, column C: ".
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/jinja/interpreter.h"
#include "chat/jinja/parser.h"
#include "chat/jinja/source.h"
#include "chat/jinja/value.h"
#include "util/result.h"

namespace dseek::jinja {

struct TemplateLimits {
  size_t max_template_bytes = 4u << 20;
  ParseLimits parse;
  RenderLimits render;
};

struct RenderOptions {
  // What strftime_now() formats; unset: the current time.
  std::optional<int64_t> now_unix_seconds;
};

class Template {
 public:
  static Result<Template> parse(std::string_view text, const TemplateLimits& limits = {});

  // variables: a JSON object whose members become the template's variables
  // (messages, tools, add_generation_prompt, bos_token, ...).
  Result<std::string> render(const nlohmann::ordered_json& variables, const RenderOptions& options = {}) const;
  Result<std::string> render(const std::vector<std::pair<std::string, Value>>& variables,
                             const RenderOptions& options = {}) const;

 private:
  Template() = default;
  std::shared_ptr<const Source> source_;
  std::shared_ptr<const Node> program_;
  TemplateLimits limits_;

  Error locate(const Failure& f) const;
};

}  // namespace dseek::jinja
