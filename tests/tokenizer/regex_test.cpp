// The Oniguruma -> PCRE2 translation: each rule exists because the two
// engines read the construct differently (regex.cpp lists them).
#include <gtest/gtest.h>

#include "tokenizer/regex.h"

namespace dseek {
namespace {

std::vector<std::string> matches(const std::string& pattern, const std::string& subject) {
  auto re = Regex::compile(pattern);
  EXPECT_TRUE(re.ok()) << (re.ok() ? "" : re.error().message);
  if (!re.ok()) return {};
  std::vector<RegexMatch> found;
  EXPECT_TRUE(re->find_all(subject, found).ok());
  std::vector<std::string> out;
  for (const RegexMatch& m : found) out.push_back(subject.substr(m.start, m.end - m.start));
  return out;
}

using V = std::vector<std::string>;

TEST(Regex, WhitespaceIsUnicodeWhiteSpace) {
  // U+0085 (NEL) and U+3000 are White_Space; U+180E is not (PCRE2's \s would take it).
  EXPECT_EQ(matches(R"(\s+)", "a\xC2\x85" "b\xE3\x80\x80" "c\xE1\xA0\x8E" "d"), (V{"\xC2\x85", "\xE3\x80\x80"}));
  EXPECT_EQ(matches(R"(\S+)", "a\xE1\xA0\x8E" "b c"), (V{"a\xE1\xA0\x8E" "b", "c"}));
  EXPECT_EQ(matches(R"([^\s\p{L}]+)", "ab 12\tcd"), (V{"12"}));
}

TEST(Regex, CaseInsensitiveGroupsFoldAsciiOnly) {
  const std::string p = R"((?i:'s|'t|'ll))";
  EXPECT_EQ(matches(p, "it's IT'S we'LL"), (V{"'s", "'S", "'LL"}));
  EXPECT_EQ(matches(p, "it'\xC5\xBF"), V{});  // 'ſ (U+017F) is not 's for the references
  EXPECT_EQ(matches(R"((?i:[a-c]x))", "AX bx Cx dx"), (V{"AX", "bx", "Cx"}));
  EXPECT_EQ(matches(R"(a(?i:b)c)", "abc aBc ABC"), (V{"abc", "aBc"}));
}

TEST(Regex, DollarIsALineAnchor) {
  // Both runs match: the first ends before the newline.
  EXPECT_EQ(matches(R"(\s+$)", "a  \nb  "), (V{"  ", "  "}));
}

TEST(Regex, OnigurumaEscapes) {
  EXPECT_EQ(matches(R"(\h+)", "xyz 0aF9 g"), (V{"0aF9"}));
  EXPECT_EQ(matches(R"(\u4e2d)", "a中b"), (V{"中"}));
  EXPECT_EQ(matches(R"(\w+)", "a\xCC\x81_b c"), (V{"a\xCC\x81_b", "c"}));  // marks and _ are word characters
}

TEST(Regex, EmptyMatchesFollowOniguruma) {
  // An empty match right after a match is skipped.
  EXPECT_EQ(matches("a*", "baab"), (V{"", "aa", ""}));
}

TEST(Regex, LookaheadSeesOnlyTheSubject) {
  EXPECT_EQ(matches(R"(\s+(?!\S)|\s+)", "a   "), (V{"   "}));
}

TEST(Regex, UnsupportedConstructsAreErrors) {
  for (const char* bad : {"[a[b]]", "[a-z&&[^aeiou]]", "(?<name>x)", "(?x)a b", "(", ")", "[abc", "a\\"}) {
    auto re = Regex::compile(bad);
    EXPECT_FALSE(re.ok()) << bad;
  }
  auto re = Regex::compile("[a[b]]");
  ASSERT_FALSE(re.ok());
  EXPECT_NE(re.error().message.find("[a[b]]"), std::string::npos) << re.error().message;
}

}  // namespace
}  // namespace dseek
