// Everything a tokenizer is made of, after parsing and before building: the
// common form that both tokenizer.json (tokenizer_json.cpp) and GGUF-style
// parts (tokenizer_parts.cpp) are turned into. Tokenizer::build() checks it
// and compiles it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tokenizer/added_vocabulary.h"
#include "tokenizer/bpe.h"
#include "tokenizer/decoder.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/pre_tokenizer.h"

namespace dseek {

struct TokenizerSpec {
  std::vector<NormalizationForm> normalizer;
  std::vector<PreTokenizerStep> pre_tokenizer;
  BpeSpec model;
  std::vector<AddedToken> added_tokens;
  // What encode() adds around the text when asked for special tokens
  // (from the post_processor, or add_bos_token/add_eos_token).
  std::vector<int32_t> prefix_ids, suffix_ids;
  std::vector<DecoderStep> decoder;
  bool clean_up_tokenization_spaces = false;  // transformers' decode default for this model
  int32_t bos_id = -1, eos_id = -1;           // -1: none
};

}  // namespace dseek
