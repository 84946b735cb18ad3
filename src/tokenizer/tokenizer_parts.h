// A tokenizer from the pieces a GGUF file stores (tokenizer.ggml.*), so that
// a GGUF reader can build the same Tokenizer that tokenizer.json gives.
//
// The pre-tokenizer is named as llama.cpp names it (tokenizer.ggml.pre) and
// maps to the same Split regexes (and normalizer) that the model's Hugging
// Face tokenizer.json uses, so ids match HF's:
//   deepseek-v3                        DeepSeek-V3 / R1
//   deepseek-llm                       DeepSeek LLM v1, V2
//   deepseek-coder                     DeepSeek-Coder v1
//   qwen2, deepseek-r1-qwen            Qwen2 / R1-Distill-Qwen (with NFC, as HF)
//   llama3, llama-v3, llama-bpe        Llama 3 / R1-Distill-Llama (ignore_merges)
//   gpt-2                              GPT-2's ByteLevel regex
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/tokenizer_spec.h"
#include "util/result.h"

namespace dseek {

struct TokenizerParts {
  // llama.cpp's token types (tokenizer.ggml.token_type); the same numbers as
  // GgufTokenType in convert/tokenizer_metadata.h, which dseek's converter writes.
  enum TokenType : int32_t {
    kNormal = 1,
    kUnknown = 2,
    kControl = 3,      // an added token matched before BPE, special (skipped by skip_special_tokens)
    kUserDefined = 4,  // an added token matched before BPE, not special
    kUnused = 5,
    kByte = 6,
  };

  std::string model = "gpt2";       // tokenizer.ggml.model; only "gpt2" (byte-level BPE)
  std::string pre;                  // tokenizer.ggml.pre
  std::vector<std::string> tokens;  // tokenizer.ggml.tokens, index = id; "" = no token with this id
  std::vector<int32_t> token_types; // tokenizer.ggml.token_type (same length), or empty: all normal
  std::vector<std::string> merges;  // tokenizer.ggml.merges, "a b", rank order
  int32_t bos_id = -1;              // tokenizer.ggml.bos_token_id
  int32_t eos_id = -1;              // tokenizer.ggml.eos_token_id
  bool add_bos = false;             // tokenizer.ggml.add_bos_token
  bool add_eos = false;             // tokenizer.ggml.add_eos_token
  bool clean_up_tokenization_spaces = false;
};

// The normalizer and pre-tokenizer steps of a llama.cpp pre-tokenizer name.
Status pre_tokenizer_for_name(const std::string& pre, std::vector<NormalizationForm>& normalizer,
                              std::vector<PreTokenizerStep>& steps, bool& ignore_merges);

Result<TokenizerSpec> spec_from_parts(const TokenizerParts& parts);

}  // namespace dseek
