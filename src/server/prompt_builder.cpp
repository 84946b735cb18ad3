#include "server/prompt_builder.h"

namespace dseek::server {

using json = nlohmann::ordered_json;

namespace {

// The generation prompt ends inside a reasoning block: the last "<think>"
// comes after the last "</think>".
bool ends_in_reasoning(const std::string& text) {
  const size_t open = text.rfind("<think>");
  if (open == std::string::npos) return false;
  const size_t close = text.rfind("</think>");
  return close == std::string::npos || close < open;
}

std::string describe_tools(const ChatRequest& r) {
  json functions = json::array();
  for (const ToolSpec& t : r.tools) {
    json f = {{"name", t.name}};
    if (!t.description.empty()) f["description"] = t.description;
    if (!t.parameters.is_null()) f["parameters"] = t.parameters;
    functions.push_back({{"type", "function"}, {"function", std::move(f)}});
  }
  return "You can call these functions. To call one, answer with a tool call naming it, with its arguments as a "
         "JSON object.\n" +
         functions.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

ModelTraits ModelTraits::probe(const TextModel& text) {
  ModelTraits t;
  json messages = json::array({{{"role", "user"}, {"content", "x"}}});
  if (auto r = text.render_chat(messages, json(nullptr), true); r.ok()) t.reasoning = ends_in_reasoning(r.value());
  // A template that renders an assistant tool call shows which layout its model was trained on.
  json call = json::array({{{"role", "user"}, {"content", "x"}},
                           {{"role", "assistant"},
                            {"content", nullptr},
                            {"tool_calls", json::array({{{"id", "call_0"},
                                                         {"type", "function"},
                                                         {"function", {{"name", "f"}, {"arguments", "{}"}}}}})}}});
  if (auto r = text.render_chat(call, json(nullptr), false); r.ok() && r.value().find("<｜tool▁sep｜>") != std::string::npos)
    t.v3_tool_format = r.value().find("```json") != std::string::npos;
  return t;
}

std::variant<BuiltPrompt, ApiError> build_chat_prompt(const TextModel& text, const ModelTraits& traits,
                                                      const ChatRequest& r) {
  if (!text.has_chat_template()) return ApiError{422, "messages: " + text.no_chat_template_reason(), "messages"};
  json messages = json::array();
  const bool offer_tools = !r.tools.empty() && r.tool_choice != ToolChoice::kNone;
  const size_t n = r.prefix_completion ? r.messages.size() - 1 : r.messages.size();
  for (size_t i = 0; i < n; ++i) {
    const ChatMessage& m = r.messages[i];
    json j = {{"role", m.role}};
    if (m.content && !(m.content->empty() && !m.tool_calls.is_null()))
      j["content"] = *m.content;
    else
      j["content"] = nullptr;
    if (!m.tool_calls.is_null()) j["tool_calls"] = m.tool_calls;
    if (!m.tool_call_id.empty()) j["tool_call_id"] = m.tool_call_id;
    if (!m.name.empty()) j["name"] = m.name;
    messages.push_back(std::move(j));
  }
  if (offer_tools && !text.template_renders_tools()) {
    // The model learns which functions exist from a system message.
    const std::string tools = describe_tools(r);
    if (!messages.empty() && messages[0]["role"] == "system" && messages[0]["content"].is_string())
      messages[0]["content"] = messages[0]["content"].get<std::string>() + "\n\n" + tools;
    else
      messages.insert(messages.begin(), json{{"role", "system"}, {"content", tools}});
  }
  json tools = json(nullptr);
  if (offer_tools) {
    tools = json::array();
    for (const ToolSpec& t : r.tools) {
      json f = {{"name", t.name}, {"description", t.description}};
      if (!t.parameters.is_null()) f["parameters"] = t.parameters;
      tools.push_back({{"type", "function"}, {"function", std::move(f)}});
    }
  }
  auto rendered = text.render_chat(messages, tools, /*add_generation_prompt=*/true);
  if (!rendered) return ApiError{422, "messages: the chat template failed: " + rendered.error().message, "messages"};
  BuiltPrompt out;
  out.text = std::move(rendered.value());
  if (r.prefix_completion) out.text += *r.messages.back().content;
  out.starts_in_reasoning = traits.reasoning && ends_in_reasoning(out.text);
  auto ids = text.encode(out.text, /*allow_control=*/true);
  if (!ids) return ApiError{400, "messages: " + ids.error().message, "messages"};
  out.tokens = std::move(ids.value());
  if (out.tokens.empty()) return ApiError{422, "messages: the prompt is empty", "messages"};
  return out;
}

std::variant<BuiltPrompt, ApiError> build_completion_prompt(const TextModel& text, const CompletionRequest& r) {
  BuiltPrompt out;
  if (text.bos_id() >= 0) out.tokens.push_back(text.bos_id());
  auto append_text = [&](const std::string& s, const char* param) -> std::optional<ApiError> {
    auto ids = text.encode(s, /*allow_control=*/false);
    if (!ids) return ApiError{400, std::string(param) + ": " + ids.error().message, param};
    out.tokens.insert(out.tokens.end(), ids->begin(), ids->end());
    out.text += s;
    return std::nullopt;
  };
  if (r.suffix) {
    const auto begin = text.control_id("<｜fim▁begin｜>");
    const auto hole = text.control_id("<｜fim▁hole｜>");
    const auto end = text.control_id("<｜fim▁end｜>");
    if (!begin || !hole || !end)
      return ApiError{422, "suffix: this model has no fill-in-the-middle tokens", "suffix"};
    out.tokens.push_back(*begin);
    if (auto e = append_text(r.prompt, "prompt")) return *e;
    out.tokens.push_back(*hole);
    if (auto e = append_text(*r.suffix, "suffix")) return *e;
    out.tokens.push_back(*end);
  } else {
    if (auto e = append_text(r.prompt, "prompt")) return *e;
  }
  if (out.tokens.empty()) return ApiError{422, "prompt: the prompt is empty", "prompt"};
  return out;
}

}  // namespace dseek::server
