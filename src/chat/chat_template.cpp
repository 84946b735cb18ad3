#include "chat/chat_template.h"

#include "formats/gguf.h"

#include <filesystem>

#include "util/mapped_file.h"

namespace dseek::chat {

namespace {

namespace fs = std::filesystem;

// bos_token / eos_token: a string, an AddedToken object, or null / absent.
Result<std::optional<std::string>> special_token(const nlohmann::ordered_json& config, const char* key) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return std::optional<std::string>{};
  if (it->is_string()) return std::optional<std::string>{it->get<std::string>()};
  if (it->is_object()) {
    auto content = it->find("content");
    if (content != it->end() && content->is_string()) return std::optional<std::string>{content->get<std::string>()};
  }
  return Error{std::string(key) + ": expected a string or an object with a string \"content\""};
}

}  // namespace

Result<ChatTemplate> ChatTemplate::from_text(std::string_view template_text, std::optional<std::string> bos_token,
                                             std::optional<std::string> eos_token, const std::string& origin,
                                             const jinja::TemplateLimits& limits) {
  auto t = jinja::Template::parse(template_text, limits);
  if (!t) return t.error().within(origin);
  ChatTemplate chat(std::move(t.value()), origin);
  chat.bos_token_ = std::move(bos_token);
  chat.eos_token_ = std::move(eos_token);
  return chat;
}

Result<ChatTemplate> ChatTemplate::from_tokenizer_config(std::string_view json_text, const std::string& origin,
                                                         const jinja::TemplateLimits& limits) {
  nlohmann::ordered_json config;
  try {
    config = nlohmann::ordered_json::parse(json_text.begin(), json_text.end());
  } catch (const nlohmann::json::exception& e) {
    return Error{origin + ": not valid JSON (" + e.what() + ")"};
  }
  if (!config.is_object()) return Error{origin + ": expected a JSON object"};
  auto bos = special_token(config, "bos_token");
  if (!bos) return bos.error().within(origin);
  auto eos = special_token(config, "eos_token");
  if (!eos) return eos.error().within(origin);

  auto it = config.find("chat_template");
  if (it == config.end() || it->is_null()) return Error{origin + ": no chat_template"};
  std::string text;
  std::string where = origin + ": chat_template";
  if (it->is_string()) {
    text = it->get<std::string>();
  } else if (it->is_array()) {
    // Named templates (transformers): the one called "default" renders chats.
    std::string names;
    bool found = false;
    for (const auto& entry : *it) {
      if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string() || !entry.contains("template") ||
          !entry["template"].is_string())
        return Error{where + ": expected a list of {\"name\": string, \"template\": string}"};
      const std::string name = entry["name"].get<std::string>();
      names += (names.empty() ? "" : ", ") + name;
      if (name == "default" && !found) {
        text = entry["template"].get<std::string>();
        found = true;
      }
    }
    if (!found) return Error{where + ": no template named \"default\" (has: " + names + ")"};
    where += "[default]";
  } else {
    return Error{where + ": expected a string or a list of named templates"};
  }
  return from_text(text, std::move(bos.value()), std::move(eos.value()), where, limits);
}

namespace {

// A GGUF file keeps the template in tokenizer.chat_template and the special
// tokens as ids into tokenizer.ggml.tokens.
Result<ChatTemplate> load_from_gguf(const std::string& path, const jinja::TemplateLimits& limits) {
  auto file = open_gguf(path);
  if (!file) return file.error();
  const GgufHeader& h = file->header;
  const GgufValue* text = h.find("tokenizer.chat_template");
  if (!text || !text->as_string()) return Error{path + ": no tokenizer.chat_template"};
  auto token_text = [&](const char* key) -> std::optional<std::string> {
    const GgufValue* id = h.find(key);
    const GgufValue* tokens = h.find("tokenizer.ggml.tokens");
    if (!id || !id->as_int() || !tokens || !tokens->is_array()) return std::nullopt;
    const int64_t i = *id->as_int();
    if (i < 0 || static_cast<size_t>(i) >= tokens->strings.size()) return std::nullopt;
    return std::string(tokens->strings[static_cast<size_t>(i)]);
  };
  return ChatTemplate::from_text(*text->as_string(), token_text("tokenizer.ggml.bos_token_id"),
                                 token_text("tokenizer.ggml.eos_token_id"), path + ": tokenizer.chat_template", limits);
}

}  // namespace

Result<ChatTemplate> ChatTemplate::load(const std::string& path, const jinja::TemplateLimits& limits) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec) && looks_like_gguf(path)) return load_from_gguf(path, limits);
  const bool is_dir = fs::is_directory(path, ec);
  const std::string config_path = is_dir ? (fs::path(path) / "tokenizer_config.json").string() : path;
  const std::string jinja_path = (fs::path(config_path).parent_path() / "chat_template.jinja").string();

  std::string config_text;
  const bool have_config = fs::exists(config_path, ec);
  if (have_config) {
    auto text = read_text_file(config_path);
    if (!text) return text.error();
    config_text = std::move(text.value());
  }
  const bool have_jinja = fs::exists(jinja_path, ec);
  if (!have_config && !have_jinja)
    return Error{path + ": no tokenizer_config.json" + (is_dir ? std::string(" or chat_template.jinja") : "")};

  if (have_config) {
    auto chat = from_tokenizer_config(config_text, config_path, limits);
    // A config without a chat_template still gives the tokens for a
    // chat_template.jinja beside it (how newer transformers save models).
    if (chat || !have_jinja) return chat;
  }
  auto text = read_text_file(jinja_path);
  if (!text) return text.error();
  std::optional<std::string> bos, eos;
  if (have_config) {
    try {
      const auto config = nlohmann::ordered_json::parse(config_text);
      if (config.is_object()) {
        auto b = special_token(config, "bos_token");
        auto e = special_token(config, "eos_token");
        if (b) bos = b.value();
        if (e) eos = e.value();
      }
    } catch (const nlohmann::json::exception&) {
      // reported above when it mattered; here only the tokens are looked for
    }
  }
  return from_text(text.value(), std::move(bos), std::move(eos), jinja_path, limits);
}

Result<std::string> ChatTemplate::render(const ChatRequest& request, const jinja::RenderOptions& options) const {
  if (!request.messages.is_array()) return Error{"messages: expected a JSON array"};
  nlohmann::ordered_json vars = nlohmann::ordered_json::object();
  vars["messages"] = request.messages;
  vars["add_generation_prompt"] = request.add_generation_prompt;
  if (bos_token_) vars["bos_token"] = *bos_token_;
  if (eos_token_) vars["eos_token"] = *eos_token_;
  if (request.tools) vars["tools"] = *request.tools;
  if (!request.extra.is_object()) return Error{"template variables: expected a JSON object"};
  for (const auto& [key, value] : request.extra.items()) {
    if (vars.contains(key)) return Error{"template variable '" + key + "' is set twice"};
    vars[key] = value;
  }
  auto out = template_.render(vars, options);
  if (!out) return out.error().within(origin_);
  return out;
}

Result<ChatRequest> parse_chat_request(std::string_view json_text, const std::string& origin) {
  nlohmann::ordered_json j;
  try {
    j = nlohmann::ordered_json::parse(json_text.begin(), json_text.end());
  } catch (const nlohmann::json::exception& e) {
    return Error{origin + ": not valid JSON (" + e.what() + ")"};
  }
  ChatRequest request;
  if (j.is_array()) {
    request.messages = std::move(j);
    return request;
  }
  if (!j.is_object()) return Error{origin + ": expected an array of messages or an object with \"messages\""};
  for (auto& [key, value] : j.items()) {
    if (key == "messages") {
      if (!value.is_array()) return Error{origin + ": messages: expected an array"};
      request.messages = value;
    } else if (key == "tools") {
      if (!value.is_array() && !value.is_null()) return Error{origin + ": tools: expected an array"};
      request.tools = value;
    } else if (key == "add_generation_prompt") {
      if (!value.is_boolean()) return Error{origin + ": add_generation_prompt: expected true or false"};
      request.add_generation_prompt = value.get<bool>();
    } else {
      request.extra[key] = value;
    }
  }
  if (!j.contains("messages")) return Error{origin + ": no \"messages\""};
  return request;
}

}  // namespace dseek::chat
