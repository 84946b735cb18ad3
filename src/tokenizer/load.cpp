#include "tokenizer/load.h"

#include <filesystem>

#include "util/mapped_file.h"

namespace dseek {

namespace fs = std::filesystem;

Result<TokenizerParts> tokenizer_parts_from_gguf(const GgufHeader& h, const std::string& source) {
  auto fail = [&](const std::string& key, const std::string& what) { return Error{source + ": " + key + ": " + what}; };
  TokenizerParts parts;
  const GgufValue* model = h.find("tokenizer.ggml.model");
  if (!model) return Error{source + ": the file carries no tokenizer (no tokenizer.ggml.model)"};
  if (!model->as_string()) return fail("tokenizer.ggml.model", "expected a string");
  parts.model = std::string(*model->as_string());
  if (const GgufValue* pre = h.find("tokenizer.ggml.pre")) {
    if (!pre->as_string()) return fail("tokenizer.ggml.pre", "expected a string");
    parts.pre = std::string(*pre->as_string());
  }
  const GgufValue* tokens = h.find("tokenizer.ggml.tokens");
  if (!tokens || !tokens->is_array() || tokens->element_type != GgufType::kString)
    return fail("tokenizer.ggml.tokens", "expected an array of strings");
  parts.tokens.assign(tokens->strings.begin(), tokens->strings.end());
  if (const GgufValue* types = h.find("tokenizer.ggml.token_type")) {
    if (!types->is_array() || types->count != tokens->count)
      return fail("tokenizer.ggml.token_type", "expected one integer per token");
    parts.token_types.reserve(types->count);
    for (uint64_t i = 0; i < types->count; ++i) {
      auto v = types->element(i).as_int();
      if (!v) return fail("tokenizer.ggml.token_type", "element " + std::to_string(i) + " is not an integer");
      parts.token_types.push_back(static_cast<int32_t>(*v));
    }
  }
  if (const GgufValue* merges = h.find("tokenizer.ggml.merges")) {
    if (!merges->is_array() || merges->element_type != GgufType::kString)
      return fail("tokenizer.ggml.merges", "expected an array of strings");
    parts.merges.assign(merges->strings.begin(), merges->strings.end());
  }
  auto id = [&](const char* key, int32_t& out) -> Status {
    const GgufValue* v = h.find(key);
    if (!v) return ok_status();
    auto n = v->as_int();
    if (!n || *n < 0 || *n >= static_cast<int64_t>(parts.tokens.size())) return fail(key, "not a token id");
    out = static_cast<int32_t>(*n);
    return ok_status();
  };
  DSEEK_TRY(id("tokenizer.ggml.bos_token_id", parts.bos_id));
  DSEEK_TRY(id("tokenizer.ggml.eos_token_id", parts.eos_id));
  auto flag = [&](const char* key, bool& out) -> Status {
    const GgufValue* v = h.find(key);
    if (!v) return ok_status();
    if (!v->as_bool()) return fail(key, "expected a bool");
    out = *v->as_bool();
    return ok_status();
  };
  // Without the key, llama.cpp adds BOS for the Llama-3 family (older
  // converters did not write it) and not for the other byte-level BPEs.
  parts.add_bos = parts.pre == "llama3" || parts.pre == "llama-v3" || parts.pre == "llama-bpe";
  DSEEK_TRY(flag("tokenizer.ggml.add_bos_token", parts.add_bos));
  DSEEK_TRY(flag("tokenizer.ggml.add_eos_token", parts.add_eos));
  return parts;
}

Result<Tokenizer> load_tokenizer(const std::string& model_path) {
  std::error_code ec;
  if (!fs::is_regular_file(model_path, ec)) return Tokenizer::from_folder(model_path);
  if (looks_like_gguf(model_path)) {
    auto file = open_gguf(model_path);
    if (!file) return file.error();
    auto parts = tokenizer_parts_from_gguf(file->header, model_path);
    if (!parts) return parts.error();
    auto tokenizer = Tokenizer::from_parts(parts.value());
    if (!tokenizer) return tokenizer.error().within(model_path);
    return tokenizer;
  }
  // A tokenizer.json itself, with the tokenizer_config.json beside it if any.
  auto json = read_text_file(model_path, 256u << 20);
  if (!json) return json.error();
  std::string config;
  const fs::path config_path = fs::path(model_path).parent_path() / "tokenizer_config.json";
  if (fs::exists(config_path, ec)) {
    auto text = read_text_file(config_path.string());
    if (!text) return text.error();
    config = std::move(text.value());
  }
  return Tokenizer::from_json(json.value(), config, model_path);
}

}  // namespace dseek
