// The encode/decode pipeline on tokenizers small enough to reason about by
// hand: merge order, ignore_merges, unknown characters, post-processing,
// invalid UTF-8, decoding; and the micro tokenizers of tests/data/tokenizers
// (their ids against the JS reference are in reference_test.cpp).
#include <gtest/gtest.h>

#include "test_data.h"
#include "tokenizer/tokenizer_test_util.h"
#include "tokenizer/byte_level.h"

namespace dseek::testing {
namespace {

using nlohmann::json;

std::vector<int32_t> encode(const Tokenizer& t, const std::string& text, bool special = false) {
  EncodeOptions o;
  o.add_special_tokens = special;
  auto ids = t.encode(text, o);
  EXPECT_TRUE(ids.ok()) << (ids.ok() ? "" : ids.error().message);
  return ids.ok() ? ids.value() : std::vector<int32_t>{};
}

int32_t id_of(const Tokenizer& t, const std::string& raw) { return t.token_to_id(byte_level::encode(raw)).value_or(-1); }

TEST(Bpe, LowestRankFirst) {
  auto t = make_tokenizer(byte_tokenizer_json({{"b", "c"}, {"a", "b"}}));
  ASSERT_TRUE(t);
  // (b,c) has the lower rank: "a" + "bc", although (a,b) comes first in the text.
  EXPECT_EQ(encode(*t, "abc"), (std::vector<int32_t>{'a', id_of(*t, "bc")}));
  EXPECT_EQ(encode(*t, "ab"), (std::vector<int32_t>{id_of(*t, "ab")}));
}

TEST(Bpe, LeftmostOnEqualRankAndChains) {
  auto t = make_tokenizer(byte_tokenizer_json({{"a", "a"}, {"aa", "a"}, {"aa", "aa"}}));
  ASSERT_TRUE(t);
  EXPECT_EQ(encode(*t, "aaa"), (std::vector<int32_t>{id_of(*t, "aaa")}));            // aa+a
  EXPECT_EQ(encode(*t, "aaaa"), (std::vector<int32_t>{id_of(*t, "aaaa")}));          // aa,aa -> aaaa
  // aa,aa,a: (aa,a) outranks (aa,aa), so aa + aaa.
  EXPECT_EQ(encode(*t, "aaaaa"), (std::vector<int32_t>{id_of(*t, "aa"), id_of(*t, "aaa")}));
}

TEST(Bpe, IgnoreMergesTakesWholeTokens) {
  json j = byte_tokenizer_json({{"a", "b"}});
  j["model"]["vocab"][byte_level::encode("abc")] = 400;  // no merge builds it
  auto plain = make_tokenizer(j);
  j["model"]["ignore_merges"] = true;
  auto ignoring = make_tokenizer(j);
  ASSERT_TRUE(plain && ignoring);
  EXPECT_EQ(encode(*plain, "abc"), (std::vector<int32_t>{id_of(*plain, "ab"), 'c'}));
  EXPECT_EQ(encode(*ignoring, "abc"), (std::vector<int32_t>{400}));
}

// A character-level BPE (no ByteLevel): unknown characters go to byte
// fallback tokens, else the unk token (fused or not), else nowhere.
json char_tokenizer(bool byte_fallback, const char* unk, bool fuse) {
  json vocab = {{"a", 0}, {"b", 1}, {"<unk>", 2}, {"<0xE4>", 3}, {"<0xB8>", 4}, {"<0xAD>", 5}, {"ab", 6}};
  return {{"normalizer", nullptr},
          {"pre_tokenizer", nullptr},
          {"decoder",
           {{"type", "Sequence"},
            {"decoders", json::array({{{"type", "ByteFallback"}}, {{"type", "Fuse"}}})}}},
          {"model",
           {{"type", "BPE"}, {"vocab", vocab}, {"merges", json::array({"a b"})}, {"byte_fallback", byte_fallback},
            {"unk_token", unk ? json(unk) : json()}, {"fuse_unk", fuse}}}};
}

TEST(Bpe, UnknownCharacters) {
  auto fallback = make_tokenizer(char_tokenizer(true, "<unk>", false));
  auto unk = make_tokenizer(char_tokenizer(false, "<unk>", false));
  auto fused = make_tokenizer(char_tokenizer(false, "<unk>", true));
  auto none = make_tokenizer(char_tokenizer(false, nullptr, false));
  ASSERT_TRUE(fallback && unk && fused && none);
  EXPECT_EQ(encode(*fallback, "a中b"), (std::vector<int32_t>{0, 3, 4, 5, 1}));
  EXPECT_EQ(encode(*fallback, "ab文"), (std::vector<int32_t>{6, 2}));  // 文 has no byte tokens: unk
  EXPECT_EQ(encode(*unk, "a中中b"), (std::vector<int32_t>{0, 2, 2, 1}));
  EXPECT_EQ(encode(*fused, "a中中b"), (std::vector<int32_t>{0, 2, 1}));
  EXPECT_EQ(encode(*none, "a中b"), (std::vector<int32_t>{6}));  // 中 dropped, then a+b merge
  EXPECT_EQ(fallback->decode(std::vector<int32_t>{0, 3, 4, 5, 1}), "a中b");
}

TEST(Tokenizer, InvalidUtf8IsRepairedFirst) {
  auto t = make_tokenizer(byte_tokenizer_json());
  ASSERT_TRUE(t);
  EXPECT_EQ(encode(*t, "a\xFF" "b\xE4\xB8"), byte_ids("a\xEF\xBF\xBD" "b\xEF\xBF\xBD"));
}

TEST(Tokenizer, DecodeSkipsUnknownIdsAndCanCleanUp) {
  auto t = make_tokenizer(byte_tokenizer_json());
  ASSERT_TRUE(t);
  EXPECT_EQ(t->decode(std::vector<int32_t>{'a', 99999, -1, 'b'}), "ab");
  EXPECT_EQ(t->decode(std::vector<int32_t>{0xE4, 'a'}), "\xEF\xBF\xBD" "a");  // bytes that are not UTF-8
  EXPECT_EQ(t->decode_bytes(std::vector<int32_t>{0xE4, 'a'}), "\xE4" "a");
  auto cleaning = make_tokenizer(byte_tokenizer_json(), {{"clean_up_tokenization_spaces", true}});
  ASSERT_TRUE(cleaning);
  auto ids = byte_ids("Hi , it 's me . Don 't !");
  EXPECT_EQ(cleaning->decode(ids), "Hi, it's me. Don 't!");
  DecodeOptions raw;
  raw.clean_up_tokenization_spaces = false;
  EXPECT_EQ(cleaning->decode(ids, raw), "Hi , it 's me . Don 't !");
}

TEST(MicroTokenizers, SpecialTokensAndRoundTrip) {
  struct Case {
    const char* folder;
    int32_t bos, eos;
    bool adds_bos;
  };
  for (Case c : {Case{"deepseek-llm-micro", 382, 383, true}, Case{"llama3-micro", 381, 382, true},
                 Case{"qwen2-micro", -1, 381, false}}) {
    SCOPED_TRACE(c.folder);
    auto t = Tokenizer::from_folder(repo_path(std::string("tests/data/tokenizers/") + c.folder));
    ASSERT_TRUE(t.ok()) << t.error().message;
    EXPECT_EQ(t->vocab_size(), 384);
    EXPECT_EQ(t->bos_id(), c.bos);
    EXPECT_EQ(t->eos_id(), c.eos);
    auto plain = encode(*t, "Hello world", false);
    auto with = encode(*t, "Hello world", true);
    if (c.adds_bos) {
      ASSERT_EQ(with.size(), plain.size() + 1);
      EXPECT_EQ(with[0], c.bos);
    } else {
      EXPECT_EQ(with, plain);
    }
    EXPECT_EQ(t->decode(plain), "Hello world");
    DecodeOptions skip;
    skip.skip_special_tokens = true;
    EXPECT_EQ(t->decode(with, skip), "Hello world");
  }
}

TEST(MicroTokenizers, FolderErrors) {
  EXPECT_NE(Tokenizer::from_folder("/nonexistent/model").error().message.find("not a model folder"), std::string::npos);
  EXPECT_NE(Tokenizer::from_folder(repo_path("tests/golden")).error().message.find("no tokenizer.json"),
            std::string::npos);
}

}  // namespace
}  // namespace dseek::testing
