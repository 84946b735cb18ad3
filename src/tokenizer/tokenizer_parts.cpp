#include "tokenizer/tokenizer_parts.h"

#include "tokenizer/tokenizer.h"

namespace dseek {

namespace {

// The Split regexes of the models' tokenizer.json files (each an Isolated
// split, in order), which llama.cpp's src/llama-vocab.cpp also lists for the
// same names. Non-ASCII characters are written as \x{...} so that no editor
// or tool can normalize them (U+1F7D and U+03CE are canonically equivalent,
// but the class ranges depend on the exact code points).
const char* const kDeepSeekV3[] = {
    "\\p{N}{1,3}",
    "[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+",
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
};
const char* const kDeepSeekLlm[] = {
    "[\r\n]",
    "\\s?[A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}\\x{37B}-\\x{37D}\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}\\x{2183}\\x{2184}\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}]+",
    "\\s?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+",
    "\\s+$",
    "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+",
    "\\p{N}+",
};
const char* const kDeepSeekCoder[] = {
    "[\r\n]",
    "\\s?\\p{L}+",
    "\\s?\\p{P}+",
    "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+",
    "\\p{N}",
};
const char* const kQwen2[] = {
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
};
const char* const kLlama3[] = {
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
};

template <size_t N>
void add_splits(const char* const (&patterns)[N], std::vector<PreTokenizerStep>& steps) {
  for (const char* p : patterns) steps.push_back(SplitStep{p, true, SplitBehavior::kIsolated, false});
  steps.push_back(ByteLevelStep{false, false});
}

}  // namespace

Status pre_tokenizer_for_name(const std::string& pre, std::vector<NormalizationForm>& normalizer,
                              std::vector<PreTokenizerStep>& steps, bool& ignore_merges) {
  normalizer.clear();
  steps.clear();
  ignore_merges = false;
  if (pre == "deepseek-v3") {
    add_splits(kDeepSeekV3, steps);
  } else if (pre == "deepseek-llm") {
    add_splits(kDeepSeekLlm, steps);
  } else if (pre == "deepseek-coder") {
    add_splits(kDeepSeekCoder, steps);
  } else if (pre == "qwen2" || pre == "deepseek-r1-qwen") {
    normalizer.push_back(NormalizationForm::kNFC);
    add_splits(kQwen2, steps);
  } else if (pre == "llama3" || pre == "llama-v3" || pre == "llama-bpe") {
    add_splits(kLlama3, steps);
    ignore_merges = true;
  } else if (pre == "gpt-2") {
    steps.push_back(ByteLevelStep{false, true});
  } else {
    return Error{"tokenizer.ggml.pre: unsupported pre-tokenizer '" + pre +
                 "' (supported: deepseek-v3, deepseek-llm, deepseek-coder, qwen2, deepseek-r1-qwen, llama3, "
                 "llama-v3, llama-bpe, gpt-2)"};
  }
  return ok_status();
}

Result<TokenizerSpec> spec_from_parts(const TokenizerParts& parts) {
  if (parts.model != "gpt2")
    return Error{"tokenizer.ggml.model: unsupported tokenizer model '" + parts.model + "' (only gpt2, byte-level BPE)"};
  if (!parts.token_types.empty() && parts.token_types.size() != parts.tokens.size())
    return Error{"tokenizer.ggml.token_type: " + std::to_string(parts.token_types.size()) + " entries for " +
                 std::to_string(parts.tokens.size()) + " tokens"};
  TokenizerSpec spec;
  DSEEK_TRY(pre_tokenizer_for_name(parts.pre, spec.normalizer, spec.pre_tokenizer, spec.model.ignore_merges));
  const auto n = static_cast<int32_t>(parts.tokens.size());
  for (int32_t id = 0; id < n; ++id) {
    const std::string& text = parts.tokens[static_cast<size_t>(id)];
    if (text.empty()) continue;
    // Every token is in the BPE vocabulary, as in HF's model.vocab (merges
    // may build any of them).
    spec.model.vocab.emplace_back(text, id);
    const int32_t type = parts.token_types.empty() ? TokenizerParts::kNormal : parts.token_types[static_cast<size_t>(id)];
    if (type == TokenizerParts::kControl || type == TokenizerParts::kUserDefined) {
      // convert_hf_to_gguf stores HF's added tokens this way, their content as
      // is (not in the byte alphabet); GGUF keeps no lstrip/rstrip flags.
      AddedToken t;
      t.id = id;
      t.content = text;
      t.special = type == TokenizerParts::kControl;
      spec.added_tokens.push_back(std::move(t));
    }
  }
  spec.model.merges.reserve(parts.merges.size());
  for (size_t i = 0; i < parts.merges.size(); ++i) {
    const std::string& m = parts.merges[i];
    // As llama.cpp reads them: split at the first space after the first byte.
    size_t space = m.size() > 1 ? m.find(' ', 1) : std::string::npos;
    if (space == std::string::npos)
      return Error{"tokenizer.ggml.merges[" + std::to_string(i) + "]: '" + m + "' is not two tokens separated by a space"};
    spec.model.merges.emplace_back(m.substr(0, space), m.substr(space + 1));
  }
  spec.decoder.push_back(DecoderStep{DecoderStep::Kind::kByteLevel, "", "", 0, 0});
  auto valid = [&](int32_t id) { return id >= 0 && id < n && !parts.tokens[static_cast<size_t>(id)].empty(); };
  if (parts.bos_id >= 0) {
    if (!valid(parts.bos_id)) return Error{"tokenizer.ggml.bos_token_id: " + std::to_string(parts.bos_id) + " is not a token"};
    spec.bos_id = parts.bos_id;
  }
  if (parts.eos_id >= 0) {
    if (!valid(parts.eos_id)) return Error{"tokenizer.ggml.eos_token_id: " + std::to_string(parts.eos_id) + " is not a token"};
    spec.eos_id = parts.eos_id;
  }
  if (parts.add_bos) {
    if (spec.bos_id < 0) return Error{"tokenizer.ggml.add_bos_token is true but there is no bos_token_id"};
    spec.prefix_ids = {spec.bos_id};
  }
  if (parts.add_eos) {
    if (spec.eos_id < 0) return Error{"tokenizer.ggml.add_eos_token is true but there is no eos_token_id"};
    spec.suffix_ids = {spec.eos_id};
  }
  spec.clean_up_tokenization_spaces = parts.clean_up_tokenization_spaces;
  return spec;
}

Result<Tokenizer> Tokenizer::from_parts(const TokenizerParts& parts) {
  auto spec = spec_from_parts(parts);
  if (!spec) return spec.error();
  return build(spec.value());
}

}  // namespace dseek
