// UTF-8 repair must match the WHATWG decoder (JavaScript's TextDecoder): one
// U+FFFD per maximal invalid subpart. Expected strings below follow the
// examples of the Unicode Standard (ch. 3, "U+FFFD Substitution of Maximal
// Subparts", table 3-8) and the Encoding Standard.
#include <gtest/gtest.h>

#include "tokenizer/utf8.h"

namespace dseek {
namespace {

const std::string R = "\xEF\xBF\xBD";  // U+FFFD

TEST(Utf8, ValidTextIsUnchanged) {
  for (std::string s : {"", "abc", "é", "中文", "😀", "a\0b"}) {
    EXPECT_TRUE(utf8::is_valid(s));
    EXPECT_EQ(utf8::sanitize(s), s);
  }
}

TEST(Utf8, MaximalSubpartsAsTheUnicodeStandardExample) {
  // Unicode Standard table 3-8: 61 F1 80 80 E1 80 C2 62 80 63 80 BF 64
  // -> a, FFFD, FFFD, FFFD, b, FFFD, c, FFFD, FFFD, d
  std::string in = "\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64";
  EXPECT_EQ(utf8::sanitize(in), "a" + R + R + R + "b" + R + "c" + R + R + "d");
}

TEST(Utf8, EachKindOfInvalidSequence) {
  EXPECT_EQ(utf8::sanitize("\x80"), R);                    // lone continuation
  EXPECT_EQ(utf8::sanitize("\xC0\xAF"), R + R);            // overlong: C0 is never valid
  EXPECT_EQ(utf8::sanitize("\xE0\x80\xAF"), R + R + R);    // overlong 3-byte
  EXPECT_EQ(utf8::sanitize("\xED\xA0\x80"), R + R + R);    // surrogate
  EXPECT_EQ(utf8::sanitize("\xF4\x90\x80\x80"), R + R + R + R);  // above U+10FFFF
  EXPECT_EQ(utf8::sanitize("\xFF\xFE"), R + R);
  EXPECT_EQ(utf8::sanitize("\xE4\xB8"), R);                // truncated at the end: one
  EXPECT_EQ(utf8::sanitize("\xE4\xB8" "A"), R + "A");      // truncated before ASCII
  EXPECT_EQ(utf8::sanitize("\xF0\x9F\x98"), R);
  EXPECT_EQ(utf8::sanitize("\xE2\x28\xA1"), R + "(" + R);
  EXPECT_FALSE(utf8::is_valid("\xE4\xB8"));
}

TEST(Utf8, IncompleteTailHoldsOnlyWhatCanStillComplete) {
  EXPECT_EQ(utf8::incomplete_tail(""), 0u);
  EXPECT_EQ(utf8::incomplete_tail("abc"), 0u);
  EXPECT_EQ(utf8::incomplete_tail("a\xE4"), 1u);
  EXPECT_EQ(utf8::incomplete_tail("a\xE4\xB8"), 2u);
  EXPECT_EQ(utf8::incomplete_tail("a\xE4\xB8\xAD"), 0u);  // complete
  EXPECT_EQ(utf8::incomplete_tail("\xF0\x9F\x98"), 3u);
  EXPECT_EQ(utf8::incomplete_tail("\xF0\x9F\x98\x80"), 0u);
  EXPECT_EQ(utf8::incomplete_tail("\xE0\x80"), 0u);  // can never become valid
  EXPECT_EQ(utf8::incomplete_tail("\xFF"), 0u);
  EXPECT_EQ(utf8::incomplete_tail("\x80"), 0u);
}

TEST(Utf8, AppendEncodesEveryLength) {
  std::string s;
  for (char32_t cp : {0x41u, 0xE9u, 0x4E2Du, 0x1F600u}) utf8::append(s, cp);
  EXPECT_EQ(s, "A\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80");
}

}  // namespace
}  // namespace dseek
