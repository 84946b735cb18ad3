// The tokenizer of a model as a user names it: a Hugging Face folder
// (tokenizer.json + tokenizer_config.json), a tokenizer.json file, or a GGUF
// file (its tokenizer.ggml.* metadata, as llama.cpp and dseek convert write it).
#pragma once

#include <string>

#include "formats/gguf.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_parts.h"
#include "util/result.h"

namespace dseek {

Result<Tokenizer> load_tokenizer(const std::string& model_path);

// The tokenizer.ggml.* metadata of an opened GGUF file as parts; the error
// names the file and the key.
Result<TokenizerParts> tokenizer_parts_from_gguf(const GgufHeader& header, const std::string& source);

}  // namespace dseek
