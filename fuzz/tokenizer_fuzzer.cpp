// Arbitrary bytes as text to tokenize: encode must never fail or crash, every
// id must be a token, decoded text must be valid UTF-8, byte-level BPE must
// give the text back, and streaming detokenization must add up to decode().
// Runs the three micro tokenizers of tests/data/tokenizers (DeepSeek LLM,
// Qwen2 with NFC, Llama 3 with ignore_merges) and one built here with the
// GPT-2 ByteLevel regex, NFKC and added tokens with lstrip/rstrip/single_word.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenizer/stream_detokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"
#include "util/mapped_file.h"

namespace {

dseek::Tokenizer load_folder(const char* name) {
  auto t = dseek::Tokenizer::from_folder(std::string(DSEEK_SOURCE_DIR) + "/tests/data/tokenizers/" + name);
  if (!t) __builtin_trap();
  return std::move(t.value());
}

dseek::Tokenizer load_variant() {
  auto text = dseek::read_text_file(std::string(DSEEK_SOURCE_DIR) + "/tests/data/tokenizers/llama3-micro/tokenizer.json");
  if (!text) __builtin_trap();
  auto j = nlohmann::json::parse(text.value());
  j["normalizer"] = {{"type", "NFKC"}};
  j["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"use_regex", true}};
  auto added = [](int id, const char* content, bool special, bool normalized, bool lstrip, bool rstrip, bool single) {
    return nlohmann::json{{"id", id}, {"content", content}, {"special", special}, {"normalized", normalized},
                          {"lstrip", lstrip}, {"rstrip", rstrip}, {"single_word", single}};
  };
  j["added_tokens"].push_back(added(7, "ab", false, true, true, true, true));
  j["added_tokens"].push_back(added(8, " x", true, false, true, false, false));
  auto t = dseek::Tokenizer::from_json(j.dump(), "");
  if (!t) __builtin_trap();
  return std::move(t.value());
}

struct Tokenizers {
  std::vector<dseek::Tokenizer> all;
  Tokenizers() {
    all.push_back(load_folder("deepseek-llm-micro"));
    all.push_back(load_folder("qwen2-micro"));
    all.push_back(load_folder("llama3-micro"));
    all.push_back(load_variant());
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Tokenizers tokenizers;
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  dseek::EncodeOptions options;
  options.add_special_tokens = flags & 1;
  options.match_special_tokens = flags & 2;
  const std::string repaired = dseek::utf8::sanitize(text);
  for (size_t k = 0; k < tokenizers.all.size(); ++k) {
    const dseek::Tokenizer& t = tokenizers.all[k];
    auto ids = t.encode(text, options);
    if (!ids) __builtin_trap();
    for (int32_t id : ids.value())
      if (id < 0 || id >= t.vocab_size() || !t.id_to_token(id)) __builtin_trap();
    const std::string decoded = t.decode(ids.value());
    if (!dseek::utf8::is_valid(decoded)) __builtin_trap();
    // llama3-micro has a token for every byte and no normalizer: lossless
    // when special-token text is kept as text and nothing is added.
    if (k == 2 && !options.add_special_tokens && !options.match_special_tokens && decoded != repaired) __builtin_trap();
    dseek::StreamDetokenizer stream(t);
    std::string streamed;
    for (int32_t id : ids.value()) {
      std::string piece = stream.push(id);
      if (!dseek::utf8::is_valid(piece)) __builtin_trap();
      streamed += piece;
    }
    streamed += stream.flush();
    dseek::DecodeOptions raw;
    raw.clean_up_tokenization_spaces = false;
    if (streamed != t.decode(ids.value(), raw)) __builtin_trap();
  }
  return 0;
}
