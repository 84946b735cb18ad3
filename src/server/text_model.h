// What the server needs from a model's text side: the tokenizer and the chat
// template, behind one narrow interface. The server never sees how either is
// implemented; tests drive it with a small fake, and load_text_model.h adapts
// the real tokenizer and Jinja template of a model folder or GGUF file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/result.h"

namespace dseek::server {

class TextModel {
 public:
  virtual ~TextModel() = default;

  // Text to ids, adding nothing (no BOS). With allow_control, control tokens
  // written in the text ("<｜User｜>") become their ids, as a rendered chat
  // template needs; without, they stay plain text (raw completion prompts).
  virtual Result<std::vector<int32_t>> encode(std::string_view text, bool allow_control) const = 0;

  // The bytes one token adds to the output (a control token: its text).
  virtual std::string_view token_bytes(int32_t id) const = 0;

  // Added tokens (special or not: <｜User｜>, <｜tool▁calls▁begin｜>, ...):
  // constrained decoding treats them as atoms, never as their bytes.
  virtual bool is_control(int32_t id) const = 0;

  // Added tokens marked special (BOS, EOS, padding, placeholders): left out
  // of answer text, as Hugging Face's decode(skip_special_tokens) does.
  virtual bool is_special(int32_t id) const = 0;

  // The id of a control token by its text.
  virtual std::optional<int32_t> control_id(std::string_view text) const = 0;

  virtual int32_t vocab_size() const = 0;
  virtual int32_t bos_id() const = 0;  // -1: none
  virtual int32_t eos_id() const = 0;  // -1: none

  // The chat template applied to OpenAI-style messages (roles, content as
  // text, tool_calls), with `tools` (may be null) and the generation prompt.
  virtual Result<std::string> render_chat(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                                          bool add_generation_prompt) const = 0;
  // Whether the template itself shows the tools to the model (otherwise the
  // server describes them in a system message).
  virtual bool template_renders_tools() const = 0;
  // False when the model came without a chat template: chat requests are
  // then refused (422) with no_chat_template_reason(), completions still work.
  virtual bool has_chat_template() const { return true; }
  virtual std::string no_chat_template_reason() const { return {}; }
};

}  // namespace dseek::server
