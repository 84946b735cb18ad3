// The tokenizer.* metadata that llama.cpp's convert_hf_to_gguf.py writes for
// byte-level BPE tokenizers (DeepSeek, Llama 3, Qwen2), read from a Hugging
// Face folder's tokenizer.json and tokenizer_config.json: the vocabulary by
// id with token types, the merges, the pre-tokenizer's llama.cpp name, the
// special token ids and the chat template.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "formats/gguf_writer.h"
#include "util/result.h"

namespace dseek {

// llama.cpp's token types (llama_token_type / gguf.TokenType).
enum class GgufTokenType : int32_t {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

struct TokenizerMetadata {
  std::string model = "gpt2";  // llama.cpp's name for byte-level BPE
  std::string pre;             // pre-tokenizer: "deepseek-llm", "deepseek-v3", "llama-bpe", "qwen2", ...
  std::vector<std::string> tokens;
  std::vector<int32_t> token_types;
  std::vector<std::string> merges;
  // bos, eos, unk, sep, pad, cls, mask: -1 when not set.
  int64_t bos = -1, eos = -1, unk = -1, sep = -1, pad = -1, cls = -1, mask = -1;
  std::optional<bool> add_bos, add_eos;
  std::string chat_template;
};

// nullopt when the folder has no tokenizer.json; an error when it has one
// that is not byte-level BPE or is malformed. vocab_size is the model's
// (config.json): ids the tokenizer lacks become "[PAD<id>]" tokens (unused),
// as convert_hf_to_gguf.py does.
Result<std::optional<TokenizerMetadata>> read_tokenizer_metadata(const std::string& folder, int64_t vocab_size,
                                                                 const std::string& model_type);

void write_tokenizer_metadata(GgufWriter& writer, const TokenizerMetadata& t);

// llama.cpp's pre-tokenizer name for the Split regexes of a tokenizer.json
// (empty when the regexes are not one of the known ones).
std::string pre_tokenizer_name(const std::vector<std::string>& split_regexes);

}  // namespace dseek
