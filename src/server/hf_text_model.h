// The TextModel of a Hugging Face model folder: its tokenizer.json (dseek's
// Tokenizer) and the chat template of its tokenizer_config.json (dseek's
// Jinja renderer).
#pragma once

#include <memory>
#include <string>

#include "server/text_model.h"
#include "util/result.h"

namespace dseek::server {

Result<std::unique_ptr<TextModel>> load_hf_text_model(const std::string& folder);

}  // namespace dseek::server
