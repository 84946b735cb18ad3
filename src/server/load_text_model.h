// The TextModel of a model as `dseek serve` is given it: a Hugging Face
// folder (tokenizer.json, and the chat template of tokenizer_config.json or
// chat_template.jinja) or a GGUF file (tokenizer.ggml.* and
// tokenizer.chat_template), adapted to dseek's Tokenizer and Jinja renderer.
//
// Special tokens come from the same source as the vocabulary: BOS/EOS from
// tokenizer_config.json or tokenizer.ggml.{bos,eos}_token_id; the control
// tokens (FIM, <think>, tool-call tokens, ...) are the folder's added_tokens
// or the GGUF's tokens of type control / user-defined.
//
// A model without a chat template still loads: it serves completions, and
// chat requests are refused with a message saying how to give it one (see
// docs/serving.md for why there is no default template).
#pragma once

#include <memory>
#include <string>

#include "server/text_model.h"
#include "util/result.h"

namespace dseek::server {

struct LoadedTextModel {
  std::unique_ptr<TextModel> text;
  // Where the chat template came from ("m.gguf: tokenizer.chat_template"),
  // or empty: none (chat requests are refused).
  std::string chat_template_origin;
};

// source: a model folder or a GGUF file. chat_template_file, if not empty,
// is a Jinja file used instead of the source's template.
Result<LoadedTextModel> load_text_model(const std::string& source, const std::string& chat_template_file = "");

}  // namespace dseek::server
