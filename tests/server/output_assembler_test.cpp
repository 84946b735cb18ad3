// From generated tokens to API text: characters split across tokens come out
// whole, invalid bytes become U+FFFD exactly as the Unicode Standard's
// example prescribes, stop strings cut across token boundaries, reasoning
// and content split at </think>, and a tool-call block is held apart.
#include "server/output_assembler.h"

#include <gtest/gtest.h>

#include "server/fake_text_model.h"

namespace dseek::server {
namespace {

using testing::FakeTextModel;

GenerationEvent token(int32_t id) {
  GenerationEvent e;
  e.token = id;
  return e;
}

int32_t word(const FakeTextModel& t, const std::string& w) {
  auto ids = t.encode(w, true).value();
  EXPECT_EQ(ids.size(), 1u) << w;
  return ids[0];
}

struct Collected {
  std::string reasoning, content;
};

Collected run(OutputAssembler& a, const std::vector<int32_t>& ids) {
  Collected c;
  for (int32_t id : ids) {
    OutputDelta d = a.add(token(id));
    c.reasoning += d.reasoning;
    c.content += d.content;
  }
  OutputDelta d = a.finish();
  c.reasoning += d.reasoning;
  c.content += d.content;
  return c;
}

TEST(Utf8, ReplacementFollowsTheUnicodeStandardExample) {
  // The Unicode Standard, chapter 3, "U+FFFD Substitution of Maximal Subparts":
  // 61 F1 80 80 E1 80 C2 62 80 63 80 BF 64 -> a FFFD FFFD FFFD b FFFD c FFFD FFFD d
  const std::string in = "\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64";
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(valid_utf8(in), "a" + r + r + r + "b" + r + "c" + r + r + "d");
  EXPECT_EQ(valid_utf8("\xC0\xAF"), r + r);
  EXPECT_EQ(valid_utf8("\xED\xA0\x80"), r + r + r);
  EXPECT_EQ(valid_utf8("ok é 你 😀"), "ok é 你 😀");
  EXPECT_EQ(incomplete_utf8_tail("a\xE4\xBD"), 2u);
  EXPECT_EQ(incomplete_utf8_tail("a\xF0\x9F\x98"), 3u);
  EXPECT_EQ(incomplete_utf8_tail("a\xC3"), 1u);
  EXPECT_EQ(incomplete_utf8_tail("a\xC0"), 0u);  // never valid: replaced at once
  EXPECT_EQ(incomplete_utf8_tail("\xE4\xBD\xA0"), 0u);
}

TEST(OutputAssembler, CharactersSplitAcrossTokensComeOutWhole) {
  FakeTextModel t;
  OutputAssembler a(t, AssemblerOptions{});
  OutputDelta d1 = a.add(token(word(t, "\xE4\xBD")));
  EXPECT_TRUE(d1.content.empty());
  OutputDelta d2 = a.add(token(word(t, "\xA0")));
  EXPECT_EQ(d2.content, "你");
  OutputAssembler b(t, AssemblerOptions{});
  Collected c = run(b, {word(t, "\xC3"), 'x'});
  EXPECT_EQ(c.content, "\xEF\xBF\xBDx");
}

TEST(OutputAssembler, SpecialTokensAddNoText) {
  FakeTextModel t;
  OutputAssembler a(t, AssemblerOptions{});
  EXPECT_EQ(run(a, {word(t, "hello"), t.bos_id(), word(t, " world")}).content, "hello world");
}

TEST(OutputAssembler, StopStringsCutAcrossTokens) {
  FakeTextModel t;
  AssemblerOptions o;
  o.stop = {" wor", "zzz"};
  OutputAssembler a(t, o);
  Collected c = run(a, {word(t, "hello"), word(t, " world"), '!'});
  EXPECT_EQ(c.content, "hello");
  EXPECT_TRUE(a.stop_string_hit());
  AssemblerOptions o2;
  o2.stop = {"lo w"};
  OutputAssembler b(t, o2);
  EXPECT_EQ(run(b, {word(t, "hello"), word(t, " world")}).content, "hel");
}

TEST(OutputAssembler, ReasoningAndContentSplitAtThinkEnd) {
  FakeTextModel t;
  AssemblerOptions o;
  o.split_reasoning = true;
  o.starts_in_reasoning = true;
  OutputAssembler a(t, o);
  Collected c = run(a, {word(t, "hello"), '\n', word(t, "</"), word(t, "think"), word(t, ">"), '\n', word(t, "Paris")});
  EXPECT_EQ(c.reasoning, "hello");
  EXPECT_EQ(c.content, "Paris");
  EXPECT_EQ(a.reasoning_tokens(), 5);
}

TEST(OutputAssembler, ToolCallBlockIsHeldApart) {
  FakeTextModel t;
  AssemblerOptions o;
  o.tool_calls_begin = *t.control_id("<｜tool▁calls▁begin｜>");
  OutputAssembler a(t, o);
  std::vector<int32_t> ids = {word(t, "hello"), o.tool_calls_begin, *t.control_id("<｜tool▁call▁begin｜>"), 'x'};
  Collected c = run(a, ids);
  EXPECT_EQ(c.content, "hello");
  EXPECT_TRUE(a.in_tool_calls());
  EXPECT_EQ(a.tool_text(), "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>x");
}

TEST(OutputAssembler, LogprobsDescribeEachToken) {
  FakeTextModel t;
  AssemblerOptions o;
  o.logprobs = true;
  OutputAssembler a(t, o);
  GenerationEvent e = token(word(t, "\xC3"));
  e.logprob = -0.5f;
  e.top = {{word(t, "\xC3"), -0.5f}, {'a', -1.5f}};
  OutputDelta d = a.add(e);
  ASSERT_EQ(d.logprobs.size(), 1u);
  EXPECT_EQ(d.logprobs[0].token, "\xEF\xBF\xBD");
  EXPECT_EQ(d.logprobs[0].bytes, std::vector<uint8_t>{0xC3});
  EXPECT_FLOAT_EQ(d.logprobs[0].logprob, -0.5f);
  ASSERT_EQ(d.logprobs[0].top.size(), 2u);
  EXPECT_EQ(d.logprobs[0].top[1].token, "a");
}

}  // namespace
}  // namespace dseek::server
