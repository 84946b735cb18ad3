// Streaming detokenization never emits part of a UTF-8 character, and what it
// emits adds up to decode() of the same ids.
#include <gtest/gtest.h>

#include <random>

#include "tokenizer/stream_detokenizer.h"
#include "tokenizer/utf8.h"
#include "tokenizer/tokenizer_test_util.h"

namespace dseek::testing {
namespace {

using nlohmann::json;

std::vector<std::string> stream(const Tokenizer& t, const std::vector<int32_t>& ids, bool skip = false) {
  StreamDetokenizer d(t, skip);
  std::vector<std::string> out;
  for (int32_t id : ids) out.push_back(d.push(id));
  out.push_back(d.flush());
  return out;
}

TEST(StreamDetokenizer, HoldsSplitCharacters) {
  auto t = make_tokenizer(byte_tokenizer_json());
  ASSERT_TRUE(t);
  // 中 is E4 B8 AD, one byte token each; 😀 is F0 9F 98 80.
  EXPECT_EQ(stream(*t, byte_ids("a中b")), (std::vector<std::string>{"a", "", "", "中", "b", ""}));
  EXPECT_EQ(stream(*t, byte_ids("😀")), (std::vector<std::string>{"", "", "", "😀", ""}));
  // An unfinished character at the end comes out as U+FFFD on flush.
  EXPECT_EQ(stream(*t, byte_ids("x\xE4\xB8")), (std::vector<std::string>{"x", "", "", "\xEF\xBF\xBD"}));
  // A byte that can never start a character is replaced at once.
  EXPECT_EQ(stream(*t, byte_ids("\xFF" "a")), (std::vector<std::string>{"\xEF\xBF\xBD", "a", ""}));
  // A started character that the next byte breaks: replaced, then the byte.
  EXPECT_EQ(stream(*t, byte_ids("\xE4" "a")), (std::vector<std::string>{"", "\xEF\xBF\xBD" "a", ""}));
}

TEST(StreamDetokenizer, ByteFallbackTokens) {
  json j = {{"pre_tokenizer", nullptr},
            {"decoder", {{"type", "Sequence"}, {"decoders", json::array({{{"type", "ByteFallback"}}, {{"type", "Fuse"}}})}}},
            {"model",
             {{"type", "BPE"},
              {"vocab", {{"a", 0}, {"<0xE4>", 1}, {"<0xB8>", 2}, {"<0xAD>", 3}, {"</s>", 4}}},
              {"merges", json::array()},
              {"byte_fallback", true}}},
            {"added_tokens", json::array({{{"id", 4}, {"content", "</s>"}, {"special", true}}})}};
  auto t = make_tokenizer(j);
  ASSERT_TRUE(t);
  EXPECT_EQ(stream(*t, {0, 1, 2, 3, 0, 4}), (std::vector<std::string>{"a", "", "", "中", "a", "</s>", ""}));
  EXPECT_EQ(stream(*t, {0, 1, 4, 2, 3}, true), (std::vector<std::string>{"a", "", "", "", "中", ""}));
}

TEST(StreamDetokenizer, AddsUpToDecodeForRandomIds) {
  auto t = make_tokenizer(byte_tokenizer_json({{"\xE4", "\xB8"}, {"\xF0", "\x9F"}, {"\xF0\x9F", "\x98"}}));
  ASSERT_TRUE(t);
  std::mt19937 rng(7);
  for (int round = 0; round < 2000; ++round) {
    std::vector<int32_t> ids(rng() % 12);
    for (auto& id : ids) id = static_cast<int32_t>(rng() % (t->vocab_size() + 2));  // also unknown ids
    std::string joined;
    for (const std::string& s : stream(*t, ids)) {
      // Every piece is valid UTF-8 on its own.
      EXPECT_TRUE(utf8::is_valid(s)) << show_bytes(s);
      joined += s;
    }
    EXPECT_EQ(joined, t->decode(ids)) << show_ids(ids);
  }
}

}  // namespace
}  // namespace dseek::testing
