// Added tokens: matching before the pre-tokenizer, leftmost-longest, with
// lstrip / rstrip / single_word / normalized. The expected splits are those of
// HF tokenizers' own tests (added_vocabulary.rs: options_use_cases,
// test_single_word_is_correct, test_single_word_is_unicode_correct,
// test_lstrip_unicode_space), with their Lowercase normalizer dropped (dseek
// does not support it) and the input written in lower case instead.
#include <gtest/gtest.h>

#include "tokenizer/tokenizer_test_util.h"

namespace dseek::testing {
namespace {

using nlohmann::json;

json added(int id, const std::string& content, bool special, bool normalized, bool lstrip = false,
           bool rstrip = false, bool single_word = false) {
  return {{"id", id}, {"content", content}, {"special", special}, {"normalized", normalized},
          {"lstrip", lstrip}, {"rstrip", rstrip}, {"single_word", single_word}};
}

// Expected ids from the expected split: tokens by id, text as bytes.
struct Piece {
  std::string text;
  int id = -1;
};
std::vector<int32_t> expected_ids(const std::vector<Piece>& pieces) {
  std::vector<int32_t> ids;
  for (const Piece& p : pieces) {
    if (p.id >= 0) {
      ids.push_back(p.id);
    } else {
      auto b = byte_ids(p.text);
      ids.insert(ids.end(), b.begin(), b.end());
    }
  }
  return ids;
}

std::vector<int32_t> encode(const Tokenizer& t, const std::string& text, bool match_special = true) {
  EncodeOptions o;
  o.add_special_tokens = false;
  o.match_special_tokens = match_special;
  auto ids = t.encode(text, o);
  EXPECT_TRUE(ids.ok());
  return ids.ok() ? ids.value() : std::vector<int32_t>{};
}

TEST(AddedTokens, OptionsUseCases) {
  json j = byte_tokenizer_json();
  j["added_tokens"] = {added(300, "my", false, true, true, true), added(301, "name", false, true),
                       added(302, "ony", false, true, false, false, true), added(303, "[CLS]", true, false),
                       added(304, "[SEP]", true, false)};
  auto t = make_tokenizer(j);
  ASSERT_TRUE(t);
  // [CLS] | " my " (lstrip + rstrip take both spaces) | name | " is anthony " (ony is inside a word) | [SEP]
  EXPECT_EQ(show_ids(encode(*t, "[CLS] my name is anthony [SEP]")),
            show_ids(expected_ids({{"", 303}, {"", 300}, {"", 301}, {" is anthony "}, {"", 304}})));
}

TEST(AddedTokens, SingleWord) {
  json j = byte_tokenizer_json();
  j["added_tokens"] = json::array({added(300, "<mask>", false, true, false, false, true)});
  auto t = make_tokenizer(j);
  ASSERT_TRUE(t);
  EXPECT_EQ(show_ids(encode(*t, "<mask> my name <mask> a<mask> <mask>ony <mask>")),
            show_ids(expected_ids({{"", 300}, {" my name "}, {"", 300}, {" a<mask> <mask>ony "}, {"", 300}})));
  // Punctuation and a dash are not word characters; a combining mark is.
  EXPECT_EQ(show_ids(encode(*t, "<mask>, <mask>- \xE2\x97\x8C\xCC\xB0<mask>")),
            show_ids(expected_ids({{"", 300}, {", "}, {"", 300}, {"- \xE2\x97\x8C\xCC\xB0<mask>"}})));
}

TEST(AddedTokens, LstripRstripTakeUnicodeSpace) {
  json j = byte_tokenizer_json();
  j["added_tokens"] = json::array({added(300, "<mask>", false, true, true, true, true)});
  auto t = make_tokenizer(j);
  ASSERT_TRUE(t);
  // "\t" between two masks goes to the first (rstrip); U+2000 is White_Space.
  EXPECT_EQ(show_ids(encode(*t, "hi <mask> there\t<mask>\t<mask>\xE2\x80\x80")),
            show_ids(expected_ids({{"hi"}, {"", 300}, {"there"}, {"", 300}, {"", 300}})));
}

TEST(AddedTokens, LeftmostLongestAndPhases) {
  json j = byte_tokenizer_json();
  j["normalizer"] = {{"type", "NFKC"}};
  j["added_tokens"] = {added(300, "<a>", true, false), added(301, "<a><b>", true, false), added(302, "fi", false, true),
                       added(303, "b>", false, false)};
  auto t = make_tokenizer(j);
  ASSERT_TRUE(t);
  // The longest token at the leftmost position wins.
  EXPECT_EQ(show_ids(encode(*t, "x<a><b>y<a>")), show_ids(expected_ids({{"x"}, {"", 301}, {"y"}, {"", 300}})));
  // A normalized token matches the normalized text: U+FB01 (the fi ligature)
  // is "fi" after NFKC.
  EXPECT_EQ(show_ids(encode(*t, "\xEF\xAC\x81x")), show_ids(expected_ids({{"", 302}, {"x"}})));
  // A raw token is matched before normalization, and before normalized ones.
  EXPECT_EQ(show_ids(encode(*t, "<b>")), show_ids(expected_ids({{"<"}, {"", 303}})));
}

TEST(AddedTokens, SpecialTokensCanBeKeptAsText) {
  json j = byte_tokenizer_json();
  j["added_tokens"] = {added(300, "<|s|>", true, false), added(301, "<u>", false, false)};
  auto t = make_tokenizer(j);
  ASSERT_TRUE(t);
  EXPECT_EQ(show_ids(encode(*t, "a<|s|><u>")), show_ids(expected_ids({{"a"}, {"", 300}, {"", 301}})));
  EXPECT_EQ(show_ids(encode(*t, "a<|s|><u>", false)), show_ids(expected_ids({{"a<|s|>"}, {"", 301}})));
  EXPECT_TRUE(t->is_special(300));
  EXPECT_FALSE(t->is_special(301));
  std::vector<int32_t> ids{97, 300, 301};
  DecodeOptions skip;
  skip.skip_special_tokens = true;
  EXPECT_EQ(t->decode(ids), "a<|s|><u>");
  EXPECT_EQ(t->decode(ids, skip), "a<u>");
}

}  // namespace
}  // namespace dseek::testing
