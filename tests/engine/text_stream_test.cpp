// Stop strings and the reasoning/content split on streamed text, fed in
// every possible chunking so a tag or stop string split across tokens is
// handled exactly as when it arrives whole.
#include "engine/text_stream.h"

#include <gtest/gtest.h>

namespace dseek {
namespace {

// Feeds `text` cut at every pair of positions (three chunks) and checks
// each chunking gives the same result.
template <class Run>
void for_every_chunking(const std::string& text, Run run) {
  for (size_t a = 0; a <= text.size(); ++a)
    for (size_t b = a; b <= text.size(); ++b) run(std::vector<std::string>{text.substr(0, a), text.substr(a, b - a), text.substr(b)});
}

struct StopResult {
  std::string text;
  bool stopped;
};

StopResult stop_run(const std::vector<std::string>& stops, const std::vector<std::string>& chunks) {
  StopStringMatcher m(stops);
  StopResult r{"", false};
  for (const auto& c : chunks) r.text += m.feed(c);
  r.text += m.flush();
  r.stopped = m.stopped();
  return r;
}

TEST(StopStrings, CutsBeforeTheFirstStopWhateverTheChunking) {
  for_every_chunking("Hello, World! END more", [](const auto& chunks) {
    StopResult r = stop_run({"END", "World!!"}, chunks);
    EXPECT_EQ(r.text, "Hello, World! ");
    EXPECT_TRUE(r.stopped);
  });
}

TEST(StopStrings, HoldsBackOnlyWhatMightBecomeAStop) {
  StopStringMatcher m({"</answer>"});
  EXPECT_EQ(m.feed("value </ans"), "value ");
  EXPECT_EQ(m.feed("wer-ish"), "</answer-ish");
  EXPECT_FALSE(m.stopped());
  EXPECT_EQ(m.feed(" tail </"), " tail ");
  EXPECT_EQ(m.flush(), "</");  // generation ended: the held tail was text after all
}

TEST(StopStrings, NoStopsPassThrough) {
  for_every_chunking("abc", [](const auto& chunks) {
    StopResult r = stop_run({}, chunks);
    EXPECT_EQ(r.text, "abc");
    EXPECT_FALSE(r.stopped);
  });
}

ReasoningSplitter::Delta split(bool starts_in_reasoning, const std::vector<std::string>& chunks) {
  ReasoningSplitter s(starts_in_reasoning);
  ReasoningSplitter::Delta total;
  for (const auto& c : chunks) {
    auto d = s.feed(c);
    total.reasoning += d.reasoning;
    total.content += d.content;
  }
  auto d = s.flush();
  total.reasoning += d.reasoning;
  total.content += d.content;
  return total;
}

TEST(Reasoning, R1PromptOpensTheBlockSoOutputStartsInReasoning) {
  for_every_chunking("Let me think.\nTwo steps.\n</think>\n\nThe answer is 4.", [](const auto& chunks) {
    auto d = split(true, chunks);
    EXPECT_EQ(d.reasoning, "Let me think.\nTwo steps.");
    EXPECT_EQ(d.content, "The answer is 4.");
  });
}

TEST(Reasoning, EmptyThinkBlock) {
  for_every_chunking("\n\n</think>\n\nHi!", [](const auto& chunks) {
    auto d = split(true, chunks);
    EXPECT_EQ(d.reasoning, "");
    EXPECT_EQ(d.content, "Hi!");
  });
}

TEST(Reasoning, ModelOpensTheBlockItself) {
  for_every_chunking("<think>\nhmm\n</think>\nyes", [](const auto& chunks) {
    auto d = split(false, chunks);
    EXPECT_EQ(d.reasoning, "hmm");
    EXPECT_EQ(d.content, "yes");
  });
}

TEST(Reasoning, NoBlockAtAllIsAllContent) {
  for_every_chunking("<thinking about it> plain answer", [](const auto& chunks) {
    auto d = split(false, chunks);
    EXPECT_EQ(d.reasoning, "");
    EXPECT_EQ(d.content, "<thinking about it> plain answer");
  });
}

TEST(Reasoning, NeverClosedStaysReasoning) {
  for_every_chunking("still thinking </thi", [](const auto& chunks) {
    auto d = split(true, chunks);
    EXPECT_EQ(d.reasoning, "still thinking </thi");
    EXPECT_EQ(d.content, "");
  });
}

TEST(Reasoning, StreamsReasoningAsItComes) {
  ReasoningSplitter s(true);
  EXPECT_EQ(s.feed("First").reasoning, "First");
  EXPECT_EQ(s.feed(" idea ").reasoning, " idea");  // trailing space held
  auto d = s.feed("and more</th");
  EXPECT_EQ(d.reasoning, " and more");
  EXPECT_TRUE(s.in_reasoning());
  d = s.feed("ink>Answer");
  EXPECT_EQ(d.reasoning, "");
  EXPECT_EQ(d.content, "Answer");
  EXPECT_FALSE(s.in_reasoning());
}

}  // namespace
}  // namespace dseek
