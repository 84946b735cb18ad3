// Tokenizer::from_parts with llama.cpp pre-tokenizer names, on the vocabularies
// of llama.cpp's vocab-only GGUF files (the reachable subset committed under
// tests/data/tokenizers/llamacpp-vocab, see its README) against the ids that
// Hugging Face's tokenizer gave for llama.cpp's tokenizer test strings.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_data.h"
#include "test_files.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_parts.h"
#include "tokenizer/tokenizer_test_util.h"

namespace dseek::testing {
namespace {

struct Subset {
  TokenizerParts parts;
  std::vector<std::pair<std::string, std::vector<int32_t>>> tests;
};

Subset read_subset(const std::string& name) {
  auto j = nlohmann::json::parse(read_file(repo_path("tests/data/tokenizers/llamacpp-vocab/" + name + ".json")));
  EXPECT_EQ(j.at("format"), "dseek-gguf-vocab-subset");
  Subset s;
  TokenizerParts& p = s.parts;
  p.model = j.at("model");
  p.pre = j.at("pre");
  const auto n = j.at("n_tokens").get<size_t>();
  p.tokens.assign(n, "");
  p.token_types.assign(n, TokenizerParts::kNormal);
  for (const auto& t : j.at("tokens")) {
    auto id = t.at(0).get<size_t>();
    p.tokens.at(id) = t.at(1).get<std::string>();
    p.token_types.at(id) = t.at(2).get<int32_t>();
  }
  p.merges = j.at("merges").get<std::vector<std::string>>();
  p.bos_id = j.at("bos_id");
  p.eos_id = j.at("eos_id");
  p.add_bos = j.at("add_bos");
  p.add_eos = j.at("add_eos");
  for (const auto& t : j.at("tests")) s.tests.emplace_back(t.at("text"), t.at("ids").get<std::vector<int32_t>>());
  return s;
}

class LlamaCppVocab : public ::testing::TestWithParam<const char*> {};

TEST_P(LlamaCppVocab, IdsMatchHuggingFace) {
  Subset s = read_subset(GetParam());
  ASSERT_EQ(s.tests.size(), 46u);
  auto t = Tokenizer::from_parts(s.parts);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EncodeOptions o;
  o.add_special_tokens = false;
  for (const auto& [text, expected] : s.tests) {
    auto ids = t->encode(text, o);
    ASSERT_TRUE(ids.ok());
    EXPECT_EQ(show_ids(ids.value()), show_ids(expected)) << "text: " << show_bytes(text);
    DecodeOptions d;
    d.clean_up_tokenization_spaces = false;
    EXPECT_EQ(t->decode(ids.value(), d), text) << "round trip: " << show_bytes(text);
  }
  if (s.parts.add_bos) {
    auto ids = t->encode("hello");
    ASSERT_TRUE(ids.ok());
    EXPECT_EQ(ids->front(), s.parts.bos_id);
  }
}

INSTANTIATE_TEST_SUITE_P(Tokenizer, LlamaCppVocab, ::testing::Values("deepseek-llm", "deepseek-coder", "qwen2", "llama-bpe"));

TEST(TokenizerParts, Errors) {
  TokenizerParts p;
  p.pre = "deepseek-v3";
  p.tokens = {"a", "b", "ab"};
  p.merges = {"a b"};
  EXPECT_TRUE(Tokenizer::from_parts(p).ok());
  p.pre = "falcon";
  EXPECT_NE(Tokenizer::from_parts(p).error().message.find("tokenizer.ggml.pre: unsupported pre-tokenizer 'falcon'"),
            std::string::npos);
  p.pre = "deepseek-v3";
  p.model = "llama";
  EXPECT_NE(Tokenizer::from_parts(p).error().message.find("tokenizer.ggml.model"), std::string::npos);
  p.model = "gpt2";
  p.merges = {"ab"};
  EXPECT_NE(Tokenizer::from_parts(p).error().message.find("tokenizer.ggml.merges[0]"), std::string::npos);
  p.merges = {"a c"};
  EXPECT_NE(Tokenizer::from_parts(p).error().message.find("'c' is not in the vocabulary"), std::string::npos);
  p.merges = {};
  p.token_types = {1};
  EXPECT_NE(Tokenizer::from_parts(p).error().message.find("tokenizer.ggml.token_type"), std::string::npos);
  p.token_types = {};
  p.bos_id = 7;
  EXPECT_NE(Tokenizer::from_parts(p).error().message.find("bos_token_id: 7"), std::string::npos);
  p.bos_id = -1;
  p.add_bos = true;
  EXPECT_NE(Tokenizer::from_parts(p).error().message.find("add_bos_token is true"), std::string::npos);
}

}  // namespace
}  // namespace dseek::testing
