// A model's chat template: read from its Hugging Face folder and rendered
// with a conversation into the prompt text, as transformers'
// apply_chat_template(tokenize=False) makes it.
//
// The template comes from tokenizer_config.json's "chat_template" (a string,
// or a list of {"name", "template"} from which "default" is taken), or else
// from a chat_template.jinja file beside it. bos_token / eos_token come from
// tokenizer_config.json, as strings or AddedToken objects ({"content": ...}).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "chat/jinja/template.h"
#include "util/result.h"

namespace dseek::chat {

struct ChatRequest {
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();  // role, content, tool_calls, ...
  std::optional<nlohmann::ordered_json> tools;                         // absent: the variable is undefined
  bool add_generation_prompt = false;
  // Further template variables (thinking, enable_thinking, date_string, ...);
  // they may not replace messages, tools, add_generation_prompt or the tokens.
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();
};

class ChatTemplate {
 public:
  // path: a model folder, a tokenizer_config.json file, or a GGUF file
  // (tokenizer.chat_template).
  static Result<ChatTemplate> load(const std::string& path, const jinja::TemplateLimits& limits = {});
  // The text of a tokenizer_config.json; origin names it in messages.
  static Result<ChatTemplate> from_tokenizer_config(std::string_view json_text, const std::string& origin,
                                                    const jinja::TemplateLimits& limits = {});
  static Result<ChatTemplate> from_text(std::string_view template_text, std::optional<std::string> bos_token,
                                        std::optional<std::string> eos_token, const std::string& origin,
                                        const jinja::TemplateLimits& limits = {});

  Result<std::string> render(const ChatRequest& request, const jinja::RenderOptions& options = {}) const;

  const std::optional<std::string>& bos_token() const { return bos_token_; }
  const std::optional<std::string>& eos_token() const { return eos_token_; }
  // Where the template came from, e.g. "folder/tokenizer_config.json: chat_template".
  const std::string& origin() const { return origin_; }
  // Replaces the tokens (e.g. when a request or a command line names others).
  void set_tokens(std::optional<std::string> bos, std::optional<std::string> eos) {
    bos_token_ = std::move(bos);
    eos_token_ = std::move(eos);
  }

 private:
  ChatTemplate(jinja::Template t, std::string origin) : template_(std::move(t)), origin_(std::move(origin)) {}
  jinja::Template template_;
  std::optional<std::string> bos_token_;
  std::optional<std::string> eos_token_;
  std::string origin_;
};

// A conversation file for `dseek template`: either a JSON array of messages,
// or an object with "messages" and optionally "tools", "add_generation_prompt"
// and any further template variables.
Result<ChatRequest> parse_chat_request(std::string_view json_text, const std::string& origin);

}  // namespace dseek::chat
