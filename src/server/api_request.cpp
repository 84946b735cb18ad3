#include "server/api_request.h"

#include <cmath>
#include <limits>

namespace dseek::server {

using json = nlohmann::ordered_json;

const char* ApiError::type() const {
  switch (status) {
    case 401: return "authentication_error";
    case 402: return "insufficient_balance_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 429: return "rate_limit_error";
    case 500: return "server_error";
    case 503: return "overloaded_error";
    default: return "invalid_request_error";
  }
}

std::string ApiError::to_json() const {
  json e = {{"error",
             {{"message", message},
              {"type", type()},
              {"param", param.empty() ? json(nullptr) : json(param)},
              {"code", std::to_string(status)}}}};
  return e.dump(-1, ' ', false, json::error_handler_t::replace);
}

namespace {

ApiError format_error(std::string param, std::string what) {
  return ApiError{400, (param.empty() ? "" : param + ": ") + what, std::move(param)};
}
ApiError value_error(std::string param, std::string what) {
  return ApiError{422, param + ": " + what, std::move(param)};
}

// Nesting depth of a JSON text, without parsing it (strings skipped), so
// that a body of a million '[' is refused before a parser sees it.
int json_depth(std::string_view text, int limit) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') deepest = std::max(deepest, ++depth);
    else if (c == ']' || c == '}') --depth;
    if (deepest > limit) break;
  }
  return deepest;
}

// Reads the fields of one JSON object; the first problem wins.
class Fields {
 public:
  Fields(const json& object, std::string prefix) : o_(object), prefix_(std::move(prefix)) {}
  std::optional<ApiError> error;

  std::string name(const char* key) const { return prefix_ + key; }
  const json* get(const char* key) const {
    auto it = o_.find(key);
    if (it == o_.end() || it->is_null()) return nullptr;
    return &*it;
  }

  void boolean(const char* key, bool& out) {
    const json* v = get(key);
    if (!v || error) return;
    if (!v->is_boolean()) return fail(format_error(name(key), "expected true or false"));
    out = v->get<bool>();
  }
  void number(const char* key, double& out, double lo, double hi) {
    const json* v = get(key);
    if (!v || error) return;
    if (!v->is_number()) return fail(format_error(name(key), "expected a number"));
    const double d = v->get<double>();
    if (!std::isfinite(d) || d < lo || d > hi)
      return fail(value_error(name(key), "must be between " + short_number(lo) + " and " + short_number(hi)));
    out = d;
  }
  template <class Int>
  void integer(const char* key, Int& out, int64_t lo, int64_t hi) {
    const json* v = get(key);
    if (!v || error) return;
    if (!v->is_number()) return fail(format_error(name(key), "expected an integer"));
    if (!v->is_number_integer())
      return fail(value_error(name(key), "must be an integer between " + std::to_string(lo) + " and " + std::to_string(hi)));
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return fail(value_error(name(key), "must be between " + std::to_string(lo) + " and " + std::to_string(hi)));
    const int64_t i = v->get<int64_t>();
    if (i < lo || i > hi)
      return fail(value_error(name(key), "must be between " + std::to_string(lo) + " and " + std::to_string(hi)));
    out = static_cast<Int>(i);
  }
  void string(const char* key, std::string& out, bool required = false) {
    const json* v = get(key);
    if (error) return;
    if (!v) {
      if (required) fail(format_error(name(key), "is required"));
      return;
    }
    if (!v->is_string()) return fail(format_error(name(key), "expected a string"));
    out = v->get<std::string>();
  }
  void fail(ApiError e) {
    if (!error) error = std::move(e);
  }

 private:
  static std::string short_number(double d) {
    std::string s = std::to_string(d);
    while (s.size() > 1 && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  }
  const json& o_;
  std::string prefix_;
};

std::optional<ApiError> parse_body(std::string_view body, const RequestLimits& limits, json& out) {
  if (json_depth(body, limits.max_json_depth) > limits.max_json_depth)
    return format_error("", "the request body nests deeper than " + std::to_string(limits.max_json_depth) + " levels");
  try {
    out = json::parse(body, nullptr, /*allow_exceptions=*/false);
  } catch (const std::exception&) {
    return format_error("", "the request body is not valid JSON");
  }
  if (out.is_discarded()) return format_error("", "the request body is not valid JSON");
  if (!out.is_object()) return format_error("", "the request body must be a JSON object");
  return std::nullopt;
}

// The fields chat and completion requests share.
void parse_sampling(Fields& f, const json& body, const RequestLimits& limits, SamplingFields& out) {
  f.string("model", out.model, /*required=*/true);
  f.boolean("stream", out.stream);
  if (const json* so = f.get("stream_options"); so && !f.error) {
    if (!so->is_object()) return f.fail(format_error("stream_options", "expected an object"));
    Fields sf(*so, "stream_options.");
    sf.boolean("include_usage", out.include_usage);
    if (sf.error) return f.fail(*sf.error);
  }
  out.max_tokens = limits.default_max_tokens;
  f.integer("max_tokens", out.max_tokens, 1, limits.max_tokens);
  if (!f.get("max_tokens")) f.integer("max_completion_tokens", out.max_tokens, 1, limits.max_tokens);
  out.max_tokens_set = f.get("max_tokens") || f.get("max_completion_tokens");
  f.number("temperature", out.temperature, 0, 2);
  f.number("top_p", out.top_p, 0, 1);
  f.number("frequency_penalty", out.frequency_penalty, -2, 2);
  f.number("presence_penalty", out.presence_penalty, -2, 2);
  if (const json* seed = f.get("seed"); seed && !f.error) {
    if (!seed->is_number_integer()) return f.fail(format_error("seed", "expected an integer"));
    out.seed = seed->is_number_unsigned() ? seed->get<uint64_t>() : static_cast<uint64_t>(seed->get<int64_t>());
  }
  if (const json* n = f.get("n"); n && !f.error) {
    if (!n->is_number_integer()) return f.fail(format_error("n", "expected an integer"));
    if (!(n->is_number_unsigned() && n->get<uint64_t>() == 1)) return f.fail(value_error("n", "only n = 1 is supported"));
  }
  if (const json* stop = f.get("stop"); stop && !f.error) {
    if (stop->is_string()) {
      out.stop.push_back(stop->get<std::string>());
    } else if (stop->is_array()) {
      if (stop->size() > limits.max_stop)
        return f.fail(value_error("stop", "at most " + std::to_string(limits.max_stop) + " stop sequences"));
      for (const json& s : *stop) {
        if (!s.is_string()) return f.fail(format_error("stop", "expected a string or an array of strings"));
        out.stop.push_back(s.get<std::string>());
      }
    } else {
      return f.fail(format_error("stop", "expected a string or an array of strings"));
    }
    for (const std::string& s : out.stop)
      if (s.empty() || s.size() > limits.max_stop_bytes)
        return f.fail(value_error("stop", "each stop sequence must have 1 to " + std::to_string(limits.max_stop_bytes) +
                                              " bytes"));
  }
  (void)body;
}

std::optional<ApiError> parse_content(const json& v, const std::string& param, std::optional<std::string>& out) {
  if (v.is_null()) {
    out.reset();
    return std::nullopt;
  }
  if (v.is_string()) {
    out = v.get<std::string>();
    return std::nullopt;
  }
  if (!v.is_array()) return format_error(param, "expected a string or an array of content parts");
  std::string text;
  for (size_t i = 0; i < v.size(); ++i) {
    const json& part = v[i];
    const std::string p = param + "[" + std::to_string(i) + "]";
    if (!part.is_object()) return format_error(p, "expected a content part object");
    auto type = part.find("type");
    if (type == part.end() || !type->is_string()) return format_error(p + ".type", "is required");
    if (*type != "text") return value_error(p + ".type", "only text content parts are supported");
    auto t = part.find("text");
    if (t == part.end() || !t->is_string()) return format_error(p + ".text", "expected a string");
    if (!text.empty()) text += "\n";
    text += t->get<std::string>();
  }
  out = std::move(text);
  return std::nullopt;
}

bool valid_function_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  return true;
}

std::optional<ApiError> parse_messages(const json& body, const RequestLimits& limits, ChatRequest& out) {
  auto it = body.find("messages");
  if (it == body.end() || it->is_null()) return format_error("messages", "is required");
  if (!it->is_array()) return format_error("messages", "expected an array");
  if (it->empty()) return value_error("messages", "must hold at least one message");
  if (it->size() > limits.max_messages)
    return value_error("messages", "at most " + std::to_string(limits.max_messages) + " messages");
  size_t last_user = 0;
  for (size_t i = 0; i < it->size(); ++i)
    if ((*it)[i].is_object() && (*it)[i].value("role", json()) == "user") last_user = i;
  for (size_t i = 0; i < it->size(); ++i) {
    const json& m = (*it)[i];
    const std::string p = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) return format_error(p, "expected a message object");
    ChatMessage msg;
    Fields f(m, p + ".");
    f.string("role", msg.role, /*required=*/true);
    f.string("name", msg.name);
    if (f.error) return f.error;
    if (msg.role != "system" && msg.role != "user" && msg.role != "assistant" && msg.role != "tool")
      return value_error(p + ".role", "must be system, user, assistant or tool");
    // DeepSeek refuses chain-of-thought of earlier turns sent back: it is
    // shown, never re-read. Within the current turn (after the last user
    // message: a tool-call loop) its thinking-mode API takes it back, and so
    // does dseek, which leaves it out of the prompt all the same.
    if (auto rc = m.find("reasoning_content"); rc != m.end() && !rc->is_null() && !(rc->is_string() && rc->empty()) &&
                                               i < last_user)
      return format_error(p + ".reasoning_content",
                          "reasoning_content of earlier turns is output only; remove it from the messages you send back");
    if (auto c = m.find("content"); c != m.end()) {
      if (auto e = parse_content(*c, p + ".content", msg.content)) return e;
    }
    if (msg.role == "assistant") {
      if (auto tc = m.find("tool_calls"); tc != m.end() && !tc->is_null()) {
        if (!tc->is_array()) return format_error(p + ".tool_calls", "expected an array");
        for (size_t k = 0; k < tc->size(); ++k) {
          const json& call = (*tc)[k];
          const std::string cp = p + ".tool_calls[" + std::to_string(k) + "]";
          if (!call.is_object()) return format_error(cp, "expected an object");
          auto fn = call.find("function");
          if (fn == call.end() || !fn->is_object()) return format_error(cp + ".function", "is required");
          auto name = fn->find("name");
          auto args = fn->find("arguments");
          if (name == fn->end() || !name->is_string()) return format_error(cp + ".function.name", "expected a string");
          if (args == fn->end() || !args->is_string())
            return format_error(cp + ".function.arguments", "expected a string");
        }
        if (!tc->empty()) msg.tool_calls = *tc;
      }
      f.boolean("prefix", msg.prefix);
      if (f.error) return f.error;
      if (msg.prefix && i + 1 != it->size())
        return value_error(p + ".prefix", "only the last message may be a prefix to continue");
      if (!msg.content && msg.tool_calls.is_null())
        return format_error(p + ".content", "an assistant message needs content or tool_calls");
      if (msg.prefix && !msg.content) return format_error(p + ".content", "a prefix message needs content");
    } else if (!msg.content) {
      return format_error(p + ".content", "is required");
    }
    if (msg.role == "tool") {
      f.string("tool_call_id", msg.tool_call_id);
      if (f.error) return f.error;
    }
    out.prefix_completion = msg.prefix;
    out.messages.push_back(std::move(msg));
  }
  return std::nullopt;
}

std::optional<ApiError> parse_tools(const json& body, const RequestLimits& limits, ChatRequest& out) {
  if (auto t = body.find("tools"); t != body.end() && !t->is_null()) {
    if (!t->is_array()) return format_error("tools", "expected an array");
    if (t->size() > limits.max_tools)
      return value_error("tools", "at most " + std::to_string(limits.max_tools) + " tools");
    for (size_t i = 0; i < t->size(); ++i) {
      const json& tool = (*t)[i];
      const std::string p = "tools[" + std::to_string(i) + "]";
      if (!tool.is_object()) return format_error(p, "expected an object");
      auto type = tool.find("type");
      if (type == tool.end() || !type->is_string()) return format_error(p + ".type", "is required");
      if (*type != "function") return value_error(p + ".type", "only function tools are supported");
      auto fn = tool.find("function");
      if (fn == tool.end() || !fn->is_object()) return format_error(p + ".function", "is required");
      ToolSpec spec;
      Fields f(*fn, p + ".function.");
      f.string("name", spec.name, /*required=*/true);
      f.string("description", spec.description);
      if (f.error) return f.error;
      if (!valid_function_name(spec.name))
        return value_error(p + ".function.name", "must be 1 to 64 letters, digits, '_' or '-'");
      for (const ToolSpec& other : out.tools)
        if (other.name == spec.name) return value_error(p + ".function.name", "duplicate function name");
      if (const json* params = f.get("parameters")) {
        if (!params->is_object()) return format_error(p + ".function.parameters", "expected a JSON schema object");
        spec.parameters = *params;
      }
      out.tools.push_back(std::move(spec));
    }
  }
  out.tool_choice = out.tools.empty() ? ToolChoice::kNone : ToolChoice::kAuto;
  if (auto c = body.find("tool_choice"); c != body.end() && !c->is_null()) {
    if (c->is_string()) {
      const std::string s = c->get<std::string>();
      if (s == "none") out.tool_choice = ToolChoice::kNone;
      else if (s == "auto") out.tool_choice = ToolChoice::kAuto;
      else if (s == "required") out.tool_choice = ToolChoice::kRequired;
      else return value_error("tool_choice", "must be none, auto, required or a named function");
    } else if (c->is_object()) {
      auto fn = c->find("function");
      if (fn == c->end() || !fn->is_object()) return format_error("tool_choice.function", "is required");
      auto name = fn->find("name");
      if (name == fn->end() || !name->is_string()) return format_error("tool_choice.function.name", "expected a string");
      out.tool_choice = ToolChoice::kNamed;
      out.tool_choice_name = name->get<std::string>();
      bool found = false;
      for (const ToolSpec& t : out.tools) found = found || t.name == out.tool_choice_name;
      if (!found) return value_error("tool_choice", "names a function that is not among the tools");
    } else {
      return format_error("tool_choice", "expected a string or an object");
    }
    if (out.tools.empty() && out.tool_choice != ToolChoice::kNone)
      return value_error("tool_choice", "needs tools");
  }
  return std::nullopt;
}

}  // namespace

std::variant<ChatRequest, ApiError> parse_chat_request(std::string_view text, const RequestLimits& limits) {
  json body;
  if (auto e = parse_body(text, limits, body)) return *e;
  ChatRequest out;
  Fields f(body, "");
  parse_sampling(f, body, limits, out);
  f.boolean("logprobs", out.logprobs);
  f.integer("top_logprobs", out.top_logprobs, 0, 20);
  if (f.error) return *f.error;
  if (f.get("top_logprobs") && !out.logprobs) return value_error("top_logprobs", "needs logprobs set to true");
  if (const json* rf = f.get("response_format")) {
    if (!rf->is_object()) return format_error("response_format", "expected an object");
    auto type = rf->find("type");
    if (type == rf->end() || !type->is_string()) return format_error("response_format.type", "is required");
    if (*type == "json_object") out.json_object = true;
    else if (*type != "text") return value_error("response_format.type", "must be text or json_object");
  }
  if (auto e = parse_messages(body, limits, out)) return *e;
  if (auto e = parse_tools(body, limits, out)) return *e;
  if (out.json_object && (out.tool_choice == ToolChoice::kRequired || out.tool_choice == ToolChoice::kNamed))
    return value_error("response_format", "json_object cannot be combined with a required tool call");
  return out;
}

std::variant<CompletionRequest, ApiError> parse_completion_request(std::string_view text, const RequestLimits& limits) {
  json body;
  if (auto e = parse_body(text, limits, body)) return *e;
  CompletionRequest out;
  Fields f(body, "");
  parse_sampling(f, body, limits, out);
  f.boolean("echo", out.echo);
  if (f.error) return *f.error;
  if (const json* lp = f.get("logprobs")) {
    // The completions API takes the number of alternatives here (0..20).
    if (lp->is_boolean()) {
      out.logprobs = lp->get<bool>();
    } else {
      f.integer("logprobs", out.top_logprobs, 0, 20);
      if (f.error) return *f.error;
      out.logprobs = true;
    }
  }
  const json* prompt = f.get("prompt");
  if (!prompt) return format_error("prompt", "is required");
  if (prompt->is_array() && prompt->size() == 1 && (*prompt)[0].is_string()) prompt = &(*prompt)[0];
  if (!prompt->is_string()) return format_error("prompt", "expected a string");
  out.prompt = prompt->get<std::string>();
  if (const json* suffix = f.get("suffix")) {
    if (!suffix->is_string()) return format_error("suffix", "expected a string");
    out.suffix = suffix->get<std::string>();
  }
  if (out.echo && out.suffix) return value_error("echo", "cannot be combined with suffix");
  return out;
}

}  // namespace dseek::server
