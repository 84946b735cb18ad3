// The text generation loop of the terminal commands: the same ids as the
// plain greedy decoder, the cached prefix of a previous turn reused without
// changing the answer, stop tokens and stop strings, context limits.
#include "text/generation.h"

#include <gtest/gtest.h>

#include "engine/greedy.h"
#include "model_runner.h"
#include "test_data.h"
#include "tokenizer/load.h"

namespace dseek {
namespace {

struct Fixture {
  testing::Golden g = testing::read_golden("deepseek-v2-lite-tiny");
  testing::LoadedModel m = testing::load_or_fail(g.model_path);
  Tokenizer tokenizer = load_tokenizer(g.model_path).value();
  TextGenerationOptions greedy(int64_t n) {
    TextGenerationOptions o;
    o.sampling.temperature = 0;
    o.max_new_tokens = n;
    return o;
  }
};

TEST(TextGeneration, GreedyIdsEqualThePlainDecoder) {
  Fixture f;
  ASSERT_TRUE(f.m.model);
  TextGenerator gen(*f.m.model, f.tokenizer, 128);
  std::string streamed;
  TextCallbacks cb;
  cb.on_content = [&](std::string_view t) { streamed += t; };
  auto r = gen.generate(f.g.tokens, f.greedy(32), cb);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->tokens, f.g.greedy);
  EXPECT_EQ(r->finish_reason, "length");
  EXPECT_EQ(streamed, r->content);
  EXPECT_EQ(streamed, f.tokenizer.decode(f.g.greedy));
}

TEST(TextGeneration, ANextTurnReusesTheCacheAndAnswersTheSame) {
  Fixture f;
  ASSERT_TRUE(f.m.model);
  std::vector<int32_t> turn1(f.g.tokens.begin(), f.g.tokens.begin() + 40);
  std::vector<int32_t> turn2(f.g.tokens.begin(), f.g.tokens.begin() + 70);
  TextGenerator chat(*f.m.model, f.tokenizer, 128);
  ASSERT_TRUE(chat.generate(turn1, f.greedy(8), {}).ok());
  auto second = chat.generate(turn2, f.greedy(16), {});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->reused_prompt_tokens, 40);
  TextGenerator fresh(*f.m.model, f.tokenizer, 128);
  auto alone = fresh.generate(turn2, f.greedy(16), {});
  ASSERT_TRUE(alone.ok());
  EXPECT_EQ(alone->reused_prompt_tokens, 0);
  EXPECT_EQ(second->tokens, alone->tokens);
}

TEST(TextGeneration, StopTokensAndStopStrings) {
  Fixture f;
  ASSERT_TRUE(f.m.model);
  TextGenerator gen(*f.m.model, f.tokenizer, 128);
  TextGenerationOptions o = f.greedy(32);
  o.stop_tokens = {f.g.greedy[3]};
  auto r = gen.generate(f.g.tokens, o, {});
  ASSERT_TRUE(r.ok());
  const size_t first = std::find(f.g.greedy.begin(), f.g.greedy.end(), f.g.greedy[3]) - f.g.greedy.begin();
  EXPECT_EQ(r->tokens, std::vector<int32_t>(f.g.greedy.begin(), f.g.greedy.begin() + first));
  EXPECT_EQ(r->finish_reason, "stop");

  const std::string full = f.tokenizer.decode(f.g.greedy);
  const std::string stop = full.substr(full.size() / 2, 3);
  o = f.greedy(32);
  o.stop_strings = {stop};
  r = gen.generate(f.g.tokens, o, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->content, full.substr(0, full.find(stop)));
  EXPECT_EQ(r->finish_reason, "stop");
}

TEST(TextGeneration, AnswersStopAtTheContextAndLongPromptsFail) {
  Fixture f;
  ASSERT_TRUE(f.m.model);
  TextGenerator gen(*f.m.model, f.tokenizer, 90);
  auto r = gen.generate(f.g.tokens, f.greedy(1000), {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->tokens.size(), 10u);  // 80 prompt tokens + 10 = the context
  EXPECT_EQ(r->finish_reason, "length");
  TextGenerator tight(*f.m.model, f.tokenizer, 50);
  auto e = tight.generate(f.g.tokens, f.greedy(4), {});
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("the prompt is 80 tokens; the context holds 50"), std::string::npos);
}

TEST(TextGeneration, ReasoningGoesToItsOwnStream) {
  Fixture f;
  ASSERT_TRUE(f.m.model);
  TextGenerator gen(*f.m.model, f.tokenizer, 128);
  TextGenerationOptions o = f.greedy(16);
  o.split_reasoning = true;
  o.starts_in_reasoning = true;  // the random model never closes the block
  std::string reasoning, content;
  TextCallbacks cb;
  cb.on_reasoning = [&](std::string_view t) { reasoning += t; };
  cb.on_content = [&](std::string_view t) { content += t; };
  auto r = gen.generate(f.g.tokens, o, cb);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(content.empty());
  EXPECT_FALSE(reasoning.empty());
  EXPECT_EQ(reasoning, r->reasoning);
}

}  // namespace
}  // namespace dseek
