#include "server/hf_text_model.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_set>

#include "chat/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace dseek::server {

namespace {

using json = nlohmann::ordered_json;

Result<std::string> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{path + ": cannot read"};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class HfTextModel : public TextModel {
 public:
  HfTextModel(Tokenizer tokenizer, chat::ChatTemplate chat, std::unordered_set<int32_t> added, bool renders_tools)
      : tokenizer_(std::move(tokenizer)), chat_(std::move(chat)), added_(std::move(added)), renders_tools_(renders_tools) {}

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
    chat::ChatRequest r;
    r.messages = messages;
    if (!tools.is_null()) r.tools = tools;
    r.add_generation_prompt = add_generation_prompt;
    return chat_.render(r);
  }
  bool template_renders_tools() const override { return renders_tools_; }

 private:
  Tokenizer tokenizer_;
  chat::ChatTemplate chat_;
  std::unordered_set<int32_t> added_;
  bool renders_tools_;
};

}  // namespace

Result<std::unique_ptr<TextModel>> load_hf_text_model(const std::string& folder) {
  auto tokenizer = Tokenizer::from_folder(folder);
  if (!tokenizer) return tokenizer.error();
  auto chat = chat::ChatTemplate::load(folder);
  if (!chat) return chat.error();
  // Added tokens (special or not) are control tokens for constrained decoding.
  const std::string tokenizer_path = (std::filesystem::path(folder) / "tokenizer.json").string();
  auto text = read_text(tokenizer_path);
  if (!text) return text.error();
  std::unordered_set<int32_t> added;
  try {
    const auto j = nlohmann::json::parse(text.value());
    if (auto it = j.find("added_tokens"); it != j.end() && it->is_array())
      for (const auto& t : *it)
        if (t.contains("id") && t["id"].is_number_integer()) added.insert(t["id"].get<int32_t>());
  } catch (const std::exception& e) {
    return Error{tokenizer_path + ": " + e.what()};
  }
  // Whether the template shows the tools itself: it mentions the variable.
  bool renders_tools = false;
  const std::string config_path = (std::filesystem::path(folder) / "tokenizer_config.json").string();
  if (auto config = read_text(config_path); config.ok()) {
    try {
      const auto j = nlohmann::json::parse(config.value());
      if (auto it = j.find("chat_template"); it != j.end())
        renders_tools = it->dump().find("tools") != std::string::npos;
    } catch (const std::exception&) {
    }
  }
  return std::unique_ptr<TextModel>(
      new HfTextModel(std::move(tokenizer.value()), std::move(chat.value()), std::move(added), renders_tools));
}

}  // namespace dseek::server
