// Text <-> token ids, exactly as Hugging Face's tokenizers does it for the
// byte-level BPE tokenizers of the DeepSeek family (V3/R1, LLM v1/V2,
// Coder v1) and of the distills' bases (Qwen2, Llama 3).
//
// encode: invalid UTF-8 repaired (each invalid maximal subpart -> U+FFFD,
// like JavaScript's TextDecoder) -> added tokens cut out -> normalizer ->
// pre-tokenizer regexes -> BPE per piece -> post-processor (BOS/EOS).
// decode: each token's bytes (decoder.h) concatenated; text is those bytes
// with invalid UTF-8 replaced, as HF does.
//
// A Tokenizer is immutable once built and safe to share between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace dseek {

struct TokenizerSpec;
struct TokenizerParts;

struct EncodeOptions {
  // Add what the post-processor adds (e.g. BOS), as HF's add_special_tokens.
  bool add_special_tokens = true;
  // Match special tokens written in the text. false keeps their text as
  // plain text (HF's split_special_tokens), for untrusted input.
  bool match_special_tokens = true;
};

struct DecodeOptions {
  bool skip_special_tokens = false;
  // transformers' clean_up_tokenization_spaces (" ." -> "." ...); unset:
  // what the model's tokenizer_config.json says.
  std::optional<bool> clean_up_tokenization_spaces;
};

class Tokenizer {
 public:
  // A model folder's tokenizer.json, with tokenizer_config.json if present.
  static Result<Tokenizer> from_folder(const std::string& folder);
  // The texts of tokenizer.json and tokenizer_config.json (which may be
  // empty); source names the files in messages.
  static Result<Tokenizer> from_json(std::string_view tokenizer_json, std::string_view tokenizer_config_json,
                                     const std::string& source = "tokenizer.json");
  // GGUF-style parts (tokenizer_parts.h).
  static Result<Tokenizer> from_parts(const TokenizerParts& parts);
  static Result<Tokenizer> build(const TokenizerSpec& spec);

  // Any bytes in; fails only if a pre-tokenizer regex hits PCRE2's limits.
  Result<std::vector<int32_t>> encode(std::string_view text, const EncodeOptions& options = {}) const;

  // Text of the ids (ids no token has are skipped, as HF does).
  std::string decode(std::span<const int32_t> ids, const DecodeOptions& options = {}) const;
  // The raw bytes of the ids, before UTF-8 repair and clean-up.
  std::string decode_bytes(std::span<const int32_t> ids, bool skip_special_tokens = false) const;

  // What one token contributes to the output (empty for an unknown id).
  std::string_view token_bytes(int32_t id) const;
  // Token text as the files spell it ("Ġhello", "<｜User｜>"), or nullptr.
  const std::string* id_to_token(int32_t id) const;
  std::optional<int32_t> token_to_id(std::string_view token) const;
  bool is_special(int32_t id) const;  // an added token marked special

  int32_t vocab_size() const;  // largest id + 1
  int32_t bos_id() const;      // -1 if the model has none
  int32_t eos_id() const;

 private:
  struct Impl;
  explicit Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace dseek
