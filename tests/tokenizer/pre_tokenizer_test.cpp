// Split behaviours, invert and Digits against the examples of HF tokenizers'
// documentation (NormalizedString::split: "the-final--countdown" split on
// '-') and the semantics of its pattern.rs.
#include <gtest/gtest.h>

#include "tokenizer/pre_tokenizer.h"

namespace dseek {
namespace {

using V = std::vector<std::string>;

V pieces(const std::vector<PreTokenizerStep>& steps, const std::string& text) {
  auto pt = PreTokenizer::build(steps);
  EXPECT_TRUE(pt.ok()) << (pt.ok() ? "" : pt.error().message);
  if (!pt.ok()) return {};
  std::vector<std::string_view> out;
  std::deque<std::string> storage;
  EXPECT_TRUE(pt->split(text, out, storage).ok());
  return V(out.begin(), out.end());
}

V split(const std::string& pattern, bool regex, SplitBehavior b, bool invert, const std::string& text) {
  return pieces({SplitStep{pattern, regex, b, invert}}, text);
}

TEST(PreTokenizer, SplitBehaviorsAsDocumentedByHf) {
  const std::string t = "the-final--countdown";
  EXPECT_EQ(split("-", false, SplitBehavior::kRemoved, false, t), (V{"the", "final", "countdown"}));
  EXPECT_EQ(split("-", false, SplitBehavior::kIsolated, false, t), (V{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(split("-", false, SplitBehavior::kMergedWithPrevious, false, t), (V{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(split("-", false, SplitBehavior::kMergedWithNext, false, t), (V{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(split("-", false, SplitBehavior::kContiguous, false, t), (V{"the", "-", "final", "--", "countdown"}));
  // The same with a regex pattern.
  EXPECT_EQ(split("-", true, SplitBehavior::kContiguous, false, t), (V{"the", "-", "final", "--", "countdown"}));
}

TEST(PreTokenizer, InvertSwapsWhatCountsAsTheDelimiter) {
  // Removed + invert keeps only the matches.
  EXPECT_EQ(split(R"(\p{L}+)", true, SplitBehavior::kRemoved, true, "ab, cd!"), (V{"ab", "cd"}));
  // MergedWithPrevious + invert: each gap (now the "delimiter") joins the piece before it.
  EXPECT_EQ(split(R"(\p{L}+)", true, SplitBehavior::kMergedWithPrevious, true, "ab, cd!"), (V{"ab, ", "cd!"}));
}

TEST(PreTokenizer, LiteralPatternsAreNotRegexes) {
  EXPECT_EQ(split(".", false, SplitBehavior::kIsolated, false, "a.b"), (V{"a", ".", "b"}));
  EXPECT_EQ(split("aa", false, SplitBehavior::kIsolated, false, "aaa"), (V{"aa", "a"}));  // non-overlapping
  EXPECT_EQ(split("", false, SplitBehavior::kIsolated, false, "abc"), (V{"abc"}));
}

TEST(PreTokenizer, ByteLevelAddsPrefixSpaceAndUsesGpt2Regex) {
  EXPECT_EQ(pieces({ByteLevelStep{true, true}}, "Hello world's  x"), (V{" Hello", " world", "'s", " ", " x"}));
  EXPECT_EQ(pieces({ByteLevelStep{false, false}}, "Hello world"), (V{"Hello world"}));
  // The prefix space goes on every piece that an earlier step produced.
  EXPECT_EQ(pieces({SplitStep{"-", false, SplitBehavior::kRemoved, false}, ByteLevelStep{true, false}}, "a-b"),
            (V{" a", " b"}));
}

TEST(PreTokenizer, ByteLevelMustBeLast) {
  auto pt = PreTokenizer::build({ByteLevelStep{}, SplitStep{"a", false, SplitBehavior::kIsolated, false}});
  ASSERT_FALSE(pt.ok());
  EXPECT_NE(pt.error().message.find("last"), std::string::npos);
}

}  // namespace
}  // namespace dseek
