#include "chat/jinja/template.h"

#include <new>
#include <stdexcept>

#include "chat/jinja/lexer.h"

namespace dseek::jinja {

// The one place where the interpreter's exceptions (Failure, and allocation
// failures) are turned into Result errors.
Error Template::locate(const Failure& f) const {
  if (!f.located || source_ == nullptr) return Error{f.message};
  size_t line = 0, column = 0;
  source_->line_column(f.offset, line, column);
  return Error{"line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + f.message};
}

Result<Template> Template::parse(std::string_view text, const TemplateLimits& limits) {
  if (text.size() > limits.max_template_bytes)
    return Error{"template is " + std::to_string(text.size()) + " bytes, more than the limit of " +
                 std::to_string(limits.max_template_bytes)};
  Template t;
  t.limits_ = limits;
  auto source = std::make_shared<Source>(preprocess(text));
  t.source_ = source;
  try {
    const std::vector<Token> tokens = tokenize(*source);
    t.program_ = std::shared_ptr<const Node>(jinja::parse(tokens, source->text.size(), limits.parse));
  } catch (const Failure& f) {
    return t.locate(f);
  } catch (const std::bad_alloc&) {
    return Error{"out of memory while parsing the template"};
  }
  return t;
}

Result<std::string> Template::render(const std::vector<std::pair<std::string, Value>>& variables,
                                     const RenderOptions& options) const {
  try {
    Interpreter interpreter(limits_.render, options.now_unix_seconds);
    return interpreter.run(*program_, variables);
  } catch (const Failure& f) {
    return locate(f);
  } catch (const std::bad_alloc&) {
    return Error{"out of memory while rendering the template"};
  } catch (const std::length_error&) {
    return Error{"out of memory while rendering the template"};
  }
}

Result<std::string> Template::render(const nlohmann::ordered_json& variables, const RenderOptions& options) const {
  if (!variables.is_object()) return Error{"template variables must be a JSON object"};
  std::vector<std::pair<std::string, Value>> vars;
  try {
    for (const auto& [key, value] : variables.items()) vars.emplace_back(key, from_json(value));
  } catch (const Failure& f) {
    return Error{"template variables: " + f.message};
  }
  return render(vars, options);
}

}  // namespace dseek::jinja
