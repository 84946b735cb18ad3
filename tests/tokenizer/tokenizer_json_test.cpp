// A malformed or unsupported tokenizer.json is refused with a message that
// names the field; never a crash.
#include <gtest/gtest.h>

#include "tokenizer/tokenizer_test_util.h"

namespace dseek::testing {
namespace {

using nlohmann::json;

void expect_error(const json& j, const std::string& part, const json& config = json()) {
  std::string message = load_error(j, config);
  EXPECT_NE(message.find(part), std::string::npos) << "message: " << message << "\nexpected to contain: " << part;
}

TEST(TokenizerJson, TheBaseFileLoads) { EXPECT_TRUE(make_tokenizer(byte_tokenizer_json({{"a", "b"}})).has_value()); }

TEST(TokenizerJson, NotJsonOrNotAnObject) {
  EXPECT_NE(Tokenizer::from_json("{", "").error().message.find("not valid JSON"), std::string::npos);
  EXPECT_NE(Tokenizer::from_json("[]", "").error().message.find("expected a JSON object"), std::string::npos);
  EXPECT_NE(Tokenizer::from_json("{}", "{").error().message.find("tokenizer_config.json: not valid JSON"),
            std::string::npos);
}

TEST(TokenizerJson, Model) {
  json j = byte_tokenizer_json({{"a", "b"}});
  j.erase("model");
  expect_error(j, "model: missing");

  j = byte_tokenizer_json();
  j["model"]["type"] = "WordPiece";
  expect_error(j, "model.type: unsupported model 'WordPiece'");

  j = byte_tokenizer_json();
  j["model"]["vocab"] = json::array();
  expect_error(j, "model.vocab: missing or not an object");

  j = byte_tokenizer_json();
  j["model"]["vocab"]["x"] = "7";
  expect_error(j, "model.vocab['x']: expected an integer id");

  j = byte_tokenizer_json();
  j["model"]["vocab"]["x"] = -3;
  expect_error(j, "model.vocab['x']: id -3 is out of range");

  j = byte_tokenizer_json();
  j["model"]["vocab"]["x"] = 5;  // id 5 is byte 5's
  expect_error(j, "model.vocab: id 5 is given to both");

  j = byte_tokenizer_json();
  j["model"]["merges"] = "a b";
  expect_error(j, "model.merges: missing or not an array");

  j = byte_tokenizer_json();
  j["model"]["merges"] = json::array({"ab"});
  expect_error(j, "model.merges[0]: 'ab' is not two tokens");

  j = byte_tokenizer_json();
  j["model"]["merges"] = json::array({json::array({"a", 1})});
  expect_error(j, "model.merges[0]: expected");

  j = byte_tokenizer_json();
  j["model"]["merges"] = json::array({"a zzz"});
  expect_error(j, "model.merges[0] ('a' 'zzz'): 'zzz' is not in the vocabulary");

  j = byte_tokenizer_json();
  j["model"]["merges"] = json::array({"a b"});  // "ab" is not a token
  expect_error(j, "model.merges[0] ('a' 'b'): the merged token 'ab' is not in the vocabulary");

  j = byte_tokenizer_json();
  j["model"]["dropout"] = 0.1;
  expect_error(j, "model.dropout: BPE dropout is not supported");

  j = byte_tokenizer_json();
  j["model"]["continuing_subword_prefix"] = "##";
  expect_error(j, "model.continuing_subword_prefix");

  j = byte_tokenizer_json();
  j["model"]["unk_token"] = "<unk>";
  expect_error(j, "model.unk_token: '<unk>' is not in the vocabulary");

  j = byte_tokenizer_json();
  j["model"]["ignore_merges"] = "yes";
  expect_error(j, "model.ignore_merges: expected true or false");
}

TEST(TokenizerJson, Normalizer) {
  json j = byte_tokenizer_json();
  j["normalizer"] = {{"type", "Lowercase"}};
  expect_error(j, "normalizer.type: unsupported normalizer 'Lowercase'");
  j["normalizer"] = {{"type", "Sequence"}, {"normalizers", json::array({{{"type", "NFC"}}, {{"type", "Strip"}}})}};
  expect_error(j, "normalizer.normalizers[1].type: unsupported normalizer 'Strip'");
  j["normalizer"] = {{"type", "Sequence"}};
  expect_error(j, "normalizer.normalizers: missing");
  j["normalizer"] = "NFC";
  expect_error(j, "normalizer: expected an object");
}

TEST(TokenizerJson, PreTokenizer) {
  json j = byte_tokenizer_json();
  j["pre_tokenizer"] = {{"type", "Metaspace"}};
  expect_error(j, "pre_tokenizer.type: unsupported pre-tokenizer 'Metaspace'");

  j["pre_tokenizer"] = {{"type", "Sequence"},
                        {"pretokenizers", json::array({{{"type", "Digits"}}, {{"type", "Whitespace"}}})}};
  expect_error(j, "pre_tokenizer.pretokenizers[1].type: unsupported pre-tokenizer 'Whitespace'");

  j["pre_tokenizer"] = {{"type", "Split"}, {"behavior", "Isolated"}};
  expect_error(j, "pre_tokenizer.pattern: missing");

  j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "a"}}}, {"behavior", "Sideways"}};
  expect_error(j, "pre_tokenizer.behavior: unknown split behavior 'Sideways'");

  j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Glob", "*"}}}, {"behavior", "Isolated"}};
  expect_error(j, "pre_tokenizer.pattern: expected {\"Regex\"");

  j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "[a[b]]"}}}, {"behavior", "Isolated"}};
  expect_error(j, "nested character classes are not supported");

  j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(ab"}}}, {"behavior", "Isolated"}};
  expect_error(j, "regex '(ab'");

  j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", 5}}}, {"behavior", "Isolated"}};
  expect_error(j, "pre_tokenizer.pattern.Regex: expected a string");

  j["pre_tokenizer"] = {{"type", "Sequence"},
                        {"pretokenizers", json::array({{{"type", "ByteLevel"}}, {{"type", "Digits"}}})}};
  expect_error(j, "ByteLevel must be the last pre-tokenizer step");

  j["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", 1}};
  expect_error(j, "pre_tokenizer.add_prefix_space: expected true or false");
}

TEST(TokenizerJson, AddedTokens) {
  json j = byte_tokenizer_json();
  j["added_tokens"] = json::array({{{"content", "<x>"}, {"special", true}}});
  expect_error(j, "added_tokens[0].id: missing");
  j["added_tokens"] = json::array({{{"id", 300}, {"special", true}}});
  expect_error(j, "added_tokens[0].content: missing");
  j["added_tokens"] = json::array({{{"id", 300}, {"content", "<x>"}, {"lstrip", "no"}}});
  expect_error(j, "added_tokens[0].lstrip: expected true or false");
  j["added_tokens"] = json::object({{"id", 300}});
  expect_error(j, "added_tokens: expected an array");
  j["added_tokens"] = json::array({7});
  expect_error(j, "added_tokens[0]: expected an object");
  j["added_tokens"] = json::array({{{"id", 1 << 30}, {"content", "<x>"}}});
  expect_error(j, "added_tokens[0].id: 1073741824 is out of range");
}

TEST(TokenizerJson, PostProcessorAndDecoder) {
  json j = byte_tokenizer_json();
  j["post_processor"] = {{"type", "BertProcessing"}};
  expect_error(j, "post_processor.type: unsupported post-processor 'BertProcessing'");
  j["post_processor"] = {{"type", "TemplateProcessing"},
                         {"single", json::array({{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                                                 {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
                         {"special_tokens", json::object()}};
  expect_error(j, "'<s>' is not in post_processor.special_tokens");
  j["post_processor"]["single"] = json::array({{{"Sequence", {{"id", "B"}, {"type_id", 0}}}}});
  expect_error(j, "post_processor.single[0].Sequence.id: a single-sequence template can only hold sequence A");
  j["post_processor"] = {{"type", "TemplateProcessing"},
                         {"single", json::array({{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                                                 {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
                         {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {999}}, {"tokens", {"<s>"}}}}}}};
  expect_error(j, "post_processor: id 999 is not a token");

  j = byte_tokenizer_json();
  j["decoder"] = {{"type", "Metaspace"}};
  expect_error(j, "decoder.type: unsupported decoder 'Metaspace'");
  j["decoder"] = {{"type", "Sequence"}, {"decoders", json::array({{{"type", "Fuse"}}, {{"type", "ByteLevel"}}})}};
  expect_error(j, "decoder: steps after Fuse are not supported");
  j["decoder"] = {{"type", "Replace"}, {"pattern", {{"Regex", " "}}}, {"content", "_"}};
  expect_error(j, "decoder.pattern: only {\"String\": ...} patterns are supported");
}

TEST(TokenizerJson, TokenizerConfig) {
  json j = byte_tokenizer_json();
  expect_error(j, "add_bos_token is true but there is no bos_token", {{"add_bos_token", true}});
  expect_error(j, "bos_token 'nope' is not a token", {{"bos_token", "nope"}});
  expect_error(j, "bos_token: expected a string", {{"bos_token", 5}});
  expect_error(j, "add_eos_token: expected true or false", {{"add_eos_token", "true"}});
  expect_error(j, "tokenizer_config.json: expected a JSON object", json::array());
}

TEST(TokenizerJson, InvalidUtf8InTheFile) {
  // nlohmann rejects invalid UTF-8 in strings; dseek reports it.
  std::string text = byte_tokenizer_json().dump();
  text[text.find("1.0")] = '\xFF';
  EXPECT_FALSE(Tokenizer::from_json(text, "").ok());
}

}  // namespace
}  // namespace dseek::testing
