#include "server/load_text_model.h"

#include <filesystem>
#include <optional>
#include <unordered_set>

#include "chat/chat_template.h"
#include "formats/gguf.h"
#include "tokenizer/load.h"
#include "tokenizer/tokenizer.h"
#include "util/mapped_file.h"

namespace dseek::server {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

class LoadedModelText : public TextModel {
 public:
  LoadedModelText(Tokenizer tokenizer, std::optional<chat::ChatTemplate> chat, std::unordered_set<int32_t> added,
                  bool renders_tools, std::string no_template_reason)
      : tokenizer_(std::move(tokenizer)),
        chat_(std::move(chat)),
        added_(std::move(added)),
        renders_tools_(renders_tools),
        no_template_reason_(std::move(no_template_reason)) {}

  Result<std::vector<int32_t>> encode(std::string_view text, bool allow_control) const override {
    EncodeOptions o;
    o.add_special_tokens = false;  // the template writes BOS itself
    o.match_special_tokens = allow_control;
    return tokenizer_.encode(text, o);
  }
  std::string_view token_bytes(int32_t id) const override { return tokenizer_.token_bytes(id); }
  bool is_control(int32_t id) const override { return added_.count(id) > 0; }
  bool is_special(int32_t id) const override { return tokenizer_.is_special(id); }
  std::optional<int32_t> control_id(std::string_view text) const override {
    auto id = tokenizer_.token_to_id(text);
    if (id && added_.count(*id)) return id;
    return std::nullopt;
  }
  int32_t vocab_size() const override { return tokenizer_.vocab_size(); }
  int32_t bos_id() const override { return tokenizer_.bos_id(); }
  int32_t eos_id() const override { return tokenizer_.eos_id(); }
  Result<std::string> render_chat(const json& messages, const json& tools, bool add_generation_prompt) const override {
    if (!chat_) return Error{no_template_reason_};
    chat::ChatRequest r;
    r.messages = messages;
    if (!tools.is_null()) r.tools = tools;
    r.add_generation_prompt = add_generation_prompt;
    return chat_->render(r);
  }
  bool template_renders_tools() const override { return renders_tools_; }
  bool has_chat_template() const override { return chat_.has_value(); }
  std::string no_chat_template_reason() const override { return no_template_reason_; }

 private:
  Tokenizer tokenizer_;
  std::optional<chat::ChatTemplate> chat_;
  std::unordered_set<int32_t> added_;
  bool renders_tools_;
  std::string no_template_reason_;
};

// What the loader takes from one source besides the template itself.
struct TextParts {
  std::optional<Tokenizer> tokenizer;
  std::unordered_set<int32_t> added;    // control tokens
  std::optional<std::string> template_text;  // the raw template, if the source has one
};

Result<TextParts> read_gguf(const std::string& path) {
  auto file = open_gguf(path);
  if (!file) return file.error();
  const GgufHeader& h = file->header;
  auto parts = tokenizer_parts_from_gguf(h, path);
  if (!parts) return parts.error();
  auto tokenizer = Tokenizer::from_parts(parts.value());
  if (!tokenizer) return tokenizer.error().within(path);
  TextParts out;
  out.tokenizer = std::move(tokenizer.value());
  // Control and user-defined tokens are what a folder lists as added_tokens.
  for (size_t id = 0; id < parts->token_types.size(); ++id) {
    const int32_t type = parts->token_types[id];
    if (type == TokenizerParts::kControl || type == TokenizerParts::kUserDefined)
      out.added.insert(static_cast<int32_t>(id));
  }
  if (const GgufValue* t = h.find("tokenizer.chat_template")) {
    if (!t->as_string()) return Error{path + ": tokenizer.chat_template: expected a string"};
    out.template_text = std::string(*t->as_string());
  }
  return out;
}

Result<TextParts> read_folder(const std::string& folder) {
  auto tokenizer = Tokenizer::from_folder(folder);
  if (!tokenizer) return tokenizer.error();
  TextParts out;
  out.tokenizer = std::move(tokenizer.value());
  const std::string tokenizer_path = (fs::path(folder) / "tokenizer.json").string();
  auto text = read_text_file(tokenizer_path, 256u << 20);
  if (!text) return text.error();
  try {
    const auto j = nlohmann::json::parse(text.value());
    if (auto it = j.find("added_tokens"); it != j.end() && it->is_array())
      for (const auto& t : *it)
        if (t.contains("id") && t["id"].is_number_integer()) out.added.insert(t["id"].get<int32_t>());
  } catch (const std::exception& e) {
    return Error{tokenizer_path + ": " + e.what()};
  }
  // The template as ChatTemplate::load finds it: tokenizer_config.json's
  // chat_template, else chat_template.jinja. Only its presence and whether
  // it mentions tools matter here; ChatTemplate::load parses it.
  std::error_code ec;
  const std::string config_path = (fs::path(folder) / "tokenizer_config.json").string();
  if (fs::exists(config_path, ec)) {
    auto config = read_text_file(config_path);
    if (!config) return config.error();
    try {
      const auto j = nlohmann::json::parse(config.value());
      if (auto it = j.find("chat_template"); it != j.end() && !it->is_null()) out.template_text = it->dump();
    } catch (const std::exception& e) {
      return Error{config_path + ": " + e.what()};
    }
  }
  const std::string jinja_path = (fs::path(folder) / "chat_template.jinja").string();
  if (!out.template_text && fs::exists(jinja_path, ec)) {
    auto jinja = read_text_file(jinja_path);
    if (!jinja) return jinja.error();
    out.template_text = std::move(jinja.value());
  }
  return out;
}

std::optional<std::string> token_text(const Tokenizer& t, int32_t id) {
  if (id < 0) return std::nullopt;
  const std::string* s = t.id_to_token(id);
  if (!s) return std::nullopt;
  return *s;
}

}  // namespace

Result<LoadedTextModel> load_text_model(const std::string& source, const std::string& chat_template_file) {
  std::error_code ec;
  const bool is_gguf = fs::is_regular_file(source, ec) && looks_like_gguf(source);
  if (!is_gguf && !fs::is_directory(source, ec))
    return Error{source + ": expected a model folder (tokenizer.json, tokenizer_config.json) or a GGUF file"};
  auto parts = is_gguf ? read_gguf(source) : read_folder(source);
  if (!parts) return parts.error();
  const Tokenizer& tokenizer = *parts->tokenizer;

  std::optional<chat::ChatTemplate> chat;
  std::string origin, no_template_reason;
  bool renders_tools = false;
  if (!chat_template_file.empty()) {
    auto text = read_text_file(chat_template_file);
    if (!text) return text.error();
    auto t = chat::ChatTemplate::from_text(text.value(), token_text(tokenizer, tokenizer.bos_id()),
                                           token_text(tokenizer, tokenizer.eos_id()), chat_template_file);
    if (!t) return t.error();
    chat = std::move(t.value());
    renders_tools = text->find("tools") != std::string::npos;
  } else if (parts->template_text) {
    auto t = chat::ChatTemplate::load(source);
    if (!t) return t.error();
    chat = std::move(t.value());
    renders_tools = parts->template_text->find("tools") != std::string::npos;
  } else {
    no_template_reason = source + " has no chat template (" +
                         (is_gguf ? "no tokenizer.chat_template" : "no chat_template in tokenizer_config.json, "
                                                                   "no chat_template.jinja") +
                         "): chat completions need one; use /v1/completions, or restart dseek serve with "
                         "--chat-template-file FILE";
  }
  if (chat) origin = chat->origin();
  LoadedTextModel out;
  out.text = std::make_unique<LoadedModelText>(std::move(*parts->tokenizer), std::move(chat), std::move(parts->added),
                                               renders_tools, std::move(no_template_reason));
  out.chat_template_origin = std::move(origin);
  return out;
}

}  // namespace dseek::server
