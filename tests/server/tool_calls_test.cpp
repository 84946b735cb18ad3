// The tool-call block parser on DeepSeek's two layouts, written out by hand
// from the chat templates (V3: type, name line, fenced JSON; V3.1: name and
// arguments around the separator), and on blocks that are cut or malformed.
#include "server/tool_calls.h"

#include <gtest/gtest.h>

namespace dseek::server {
namespace {

TEST(ToolCalls, V3LayoutWithTwoCalls) {
  const std::string text =
      "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Paris\"}\n```"
      "<｜tool▁call▁end｜>\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_time\n```json\n{}\n```<｜tool▁call▁end｜>"
      "<｜tool▁calls▁end｜>";
  auto calls = parse_tool_calls(text);
  ASSERT_TRUE(calls.has_value());
  ASSERT_EQ(calls->size(), 2u);
  EXPECT_EQ((*calls)[0].name, "get_weather");
  EXPECT_EQ((*calls)[0].arguments, "{\"city\": \"Paris\"}");
  EXPECT_EQ((*calls)[1].name, "get_time");
  EXPECT_EQ((*calls)[1].arguments, "{}");
}

TEST(ToolCalls, V31Layout) {
  auto calls = parse_tool_calls(
      "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>search<｜tool▁sep｜>{\"q\":1}<｜tool▁call▁end｜><｜tool▁calls▁end｜>");
  ASSERT_TRUE(calls.has_value());
  ASSERT_EQ(calls->size(), 1u);
  EXPECT_EQ((*calls)[0].name, "search");
  EXPECT_EQ((*calls)[0].arguments, "{\"q\":1}");
}

TEST(ToolCalls, EndOfAnswerMayCloseTheBlock) {
  // The V3 template itself omits <｜tool▁calls▁end｜> after a single call.
  auto calls = parse_tool_calls(
      "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>f\n```json\n{}\n```<｜tool▁call▁end｜>");
  ASSERT_TRUE(calls.has_value());
  EXPECT_EQ((*calls)[0].name, "f");
}

TEST(ToolCalls, CutOrMalformedBlocksAreNotCalls) {
  for (const char* text : {
           "",
           "<｜tool▁calls▁begin｜>",
           "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>f\n```json\n{\"a\"",
           "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>f{}<｜tool▁call▁end｜>",
           "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>f\n{}<｜tool▁call▁end｜>x",
           "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>\n```json\n{}\n```<｜tool▁call▁end｜>",
           "hello<｜tool▁calls▁begin｜>",
       })
    EXPECT_FALSE(parse_tool_calls(text).has_value()) << text;
}

}  // namespace
}  // namespace dseek::server
