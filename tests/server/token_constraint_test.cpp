// Constrained decoding over a vocabulary whose tokens cross every boundary
// (JSON punctuation with text, halves of UTF-8 characters, control tokens):
// the mask the trie walk computes equals the brute-force answer (each
// token's bytes fed to a copy of the recognizer), and random walks that draw
// only allowed tokens always end in output that nlohmann::json parses (JSON
// mode) or that the tool-call parser reads with the offered names and
// JSON-object arguments (tool mode).
#include "server/token_constraint.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "server/fake_text_model.h"
#include "server/tool_calls.h"

namespace dseek::server {
namespace {

using testing::FakeTextModel;
constexpr int64_t kNoBudget = int64_t{1} << 40;

std::string text_of(const TextModel& t, const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += t.token_bytes(id);
  return s;
}

// Draws allowed tokens at random until an end token; returns the tokens (without the end).
std::vector<int32_t> random_walk(OutputConstraint& c, std::mt19937& rng, int32_t vocab, int32_t eos, int max_steps,
                                 bool& ended) {
  std::vector<int32_t> out;
  std::vector<float> logits(static_cast<size_t>(vocab));
  ended = false;
  for (int step = 0; step < max_steps; ++step) {
    std::fill(logits.begin(), logits.end(), 0.0f);
    c.apply(logits, out);
    std::vector<int32_t> allowed;
    for (int32_t i = 0; i < vocab; ++i)
      if (std::isfinite(logits[static_cast<size_t>(i)])) allowed.push_back(i);
    EXPECT_FALSE(allowed.empty());
    if (allowed.empty()) return out;
    // Prefer closing moves half of the time so walks end.
    int32_t pick = allowed[rng() % allowed.size()];
    if (rng() % 2 == 0)
      for (int32_t a : allowed)
        if (a == eos || a == '}' || a == ']' || a == '"' || (a >= 256 && rng() % 4 == 0)) pick = a;
    if (pick == eos) {
      ended = true;
      return out;
    }
    out.push_back(pick);
  }
  return out;
}

TEST(TokenConstraint, MaskEqualsBruteForceOverTheVocabulary) {
  FakeTextModel text;
  auto vocab = std::make_shared<VocabIndex>(text);
  std::mt19937 rng(7);
  for (int walk = 0; walk < 40; ++walk) {
    auto c = OutputConstraint::json_object(vocab, {text.eos_id()}, kNoBudget);
    bool ended = false;
    const std::vector<int32_t> prefix = random_walk(*c, rng, text.vocab_size(), text.eos_id(), 1 + walk, ended);
    if (ended) continue;
    auto fresh = OutputConstraint::json_object(vocab, {text.eos_id()}, kNoBudget);
    const std::vector<bool> allowed = fresh->allowed_after(prefix);
    JsonAutomaton base(true);
    ASSERT_TRUE(base.feed(text_of(text, prefix)));
    for (int32_t id = 0; id < text.vocab_size(); ++id) {
      bool expect;
      if (id == text.eos_id()) {
        expect = base.complete();
      } else if (text.is_control(id) || text.token_bytes(id).empty() || base.complete()) {
        expect = false;
      } else {
        JsonAutomaton a = base;
        expect = a.feed(text.token_bytes(id));
      }
      ASSERT_EQ(allowed[static_cast<size_t>(id)], expect)
          << "token " << id << " after '" << text_of(text, prefix) << "'";
    }
  }
}

TEST(TokenConstraint, JsonModeOutputAlwaysParses) {
  FakeTextModel text;
  auto vocab = std::make_shared<VocabIndex>(text);
  std::mt19937 rng(11);
  int finished = 0;
  for (int walk = 0; walk < 300; ++walk) {
    auto c = OutputConstraint::json_object(vocab, {text.eos_id()}, kNoBudget);
    bool ended = false;
    const std::vector<int32_t> out = random_walk(*c, rng, text.vocab_size(), text.eos_id(), 400, ended);
    EXPECT_FALSE(c->broken());
    if (!ended) continue;
    ++finished;
    const std::string s = text_of(text, out);
    ASSERT_TRUE(nlohmann::json::accept(s)) << s;
    EXPECT_TRUE(nlohmann::json::parse(s).is_object()) << s;
  }
  EXPECT_GT(finished, 200);
}

TEST(TokenConstraint, ToolCallsFollowDeepSeeksFormatWithOfferedNames) {
  for (bool v31 : {false, true}) {
    FakeTextModel::Options o;
    o.v31_tools = v31;
    FakeTextModel text(o);
    auto vocab = std::make_shared<VocabIndex>(text);
    const ToolCallFormat format = ToolCallFormat::from(text, !v31);
    ASSERT_TRUE(format.valid());
    const std::vector<std::string> names = {"get_weather", "get", "weather_now"};
    std::mt19937 rng(13);
    int finished = 0;
    for (int walk = 0; walk < 200; ++walk) {
      auto c = OutputConstraint::tool_calls(vocab, {text.eos_id()}, format, names, 3, kNoBudget);
      bool ended = false;
      const std::vector<int32_t> out = random_walk(*c, rng, text.vocab_size(), text.eos_id(), 600, ended);
      EXPECT_FALSE(c->broken());
      if (!ended) continue;
      ++finished;
      const std::string s = text_of(text, out);
      auto calls = parse_tool_calls(s);
      ASSERT_TRUE(calls.has_value()) << s;
      EXPECT_GE(calls->size(), 1u);
      EXPECT_LE(calls->size(), 3u);
      for (const ParsedToolCall& call : *calls) {
        EXPECT_NE(std::find(names.begin(), names.end(), call.name), names.end()) << call.name;
        ASSERT_TRUE(nlohmann::json::accept(call.arguments)) << call.arguments;
        EXPECT_TRUE(nlohmann::json::parse(call.arguments).is_object());
      }
    }
    EXPECT_GT(finished, 100) << (v31 ? "V3.1 layout" : "V3 layout");
  }
}

TEST(TokenConstraint, NamedToolAllowsOnlyThatNameAndOneCall) {
  FakeTextModel text;
  auto vocab = std::make_shared<VocabIndex>(text);
  const ToolCallFormat f = ToolCallFormat::from(text, true);
  auto c = OutputConstraint::tool_calls(vocab, {text.eos_id()}, f, {"get"}, 1, kNoBudget);
  std::vector<int32_t> out = {f.calls_begin, f.call_begin};
  auto enc = [&](std::string_view s) {
    auto ids = text.encode(s, false).value();
    out.insert(out.end(), ids.begin(), ids.end());
  };
  enc("function");
  out.push_back(f.sep);
  enc("get");
  std::vector<bool> a = c->allowed_after(out);
  const int32_t weather = 256 + static_cast<int32_t>(std::find(text.words().begin(), text.words().end(), "_") -
                                                     text.words().begin());
  EXPECT_FALSE(a[static_cast<size_t>(weather)]) << "'get_' is not the name";
  EXPECT_TRUE(a['\n']);
  enc("\n```json\n{}\n```");
  out.push_back(f.call_end);
  a = c->allowed_after(out);
  EXPECT_TRUE(a[static_cast<size_t>(f.calls_end)]);
  EXPECT_FALSE(a['\n']) << "a second call is not allowed";
  EXPECT_FALSE(a[static_cast<size_t>(text.eos_id())]);
  out.push_back(f.calls_end);
  a = c->allowed_after(out);
  for (int32_t id = 0; id < text.vocab_size(); ++id) EXPECT_EQ(a[static_cast<size_t>(id)], id == text.eos_id());
}

TEST(TokenConstraint, MaxTokensIsNeverTooFewToFinish) {
  // With any budget at least the shortest answer, every random walk ends
  // complete within it: JSON that parses, tool calls that read back.
  FakeTextModel text;
  auto vocab = std::make_shared<VocabIndex>(text);
  const ToolCallFormat f = ToolCallFormat::from(text, true);
  std::mt19937 rng(17);
  for (int walk = 0; walk < 120; ++walk) {
    const int64_t budget = 3 + walk % 40;  // "{}" + EOS is 3
    auto c = OutputConstraint::json_object(vocab, {text.eos_id()}, budget);
    bool ended = false;
    std::vector<int32_t> out = random_walk(*c, rng, text.vocab_size(), text.eos_id(), static_cast<int>(budget), ended);
    ASSERT_TRUE(ended) << "budget " << budget << ": " << text_of(text, out);
    ASSERT_LE(static_cast<int64_t>(out.size()) + 1, budget);
    ASSERT_TRUE(nlohmann::json::accept(text_of(text, out))) << text_of(text, out);
    EXPECT_FALSE(c->broken());
  }
  int forced = 0;
  for (int walk = 0; walk < 60; ++walk) {
    const int64_t budget = 40 + walk;  // the shortest call is about 30 tokens
    auto c = OutputConstraint::tool_calls(vocab, {text.eos_id()}, f, {"get_weather", "get"}, 4, budget);
    bool ended = false;
    std::vector<int32_t> out = random_walk(*c, rng, text.vocab_size(), text.eos_id(), static_cast<int>(budget), ended);
    ASSERT_TRUE(ended) << "budget " << budget;
    ASSERT_TRUE(parse_tool_calls(text_of(text, out)).has_value()) << text_of(text, out);
    forced += c->forced();
  }
  EXPECT_GT(forced, 0) << "small budgets make the model close";
}

TEST(TokenConstraint, DistanceIsAchievableOneByteAtATime) {
  // From every prefix of these documents, some byte brings the JSON
  // recognizer one step closer, and following such bytes completes it in
  // exactly distance() bytes, with a document nlohmann parses.
  const std::vector<std::string> docs = {
      R"({"a": [1, -2.5e-3, true, {"b": "x\u00e9\ud83d\ude00y"}], "c": null, "d": "é"})",
      R"({"key": {"nested": [[], {}, "s", 0.5E+2, false]}})"};
  for (const std::string& doc : docs)
    for (size_t cut = 0; cut < doc.size(); ++cut) {
      JsonAutomaton a(true);
      ASSERT_TRUE(a.feed(std::string_view(doc).substr(0, cut)));
      std::string text = doc.substr(0, cut);
      int steps = 0;
      const int start = a.distance();
      while (!a.complete()) {
        const int d = a.distance();
        bool moved = false;
        for (int b = 0; b < 256 && !moved; ++b) {
          JsonAutomaton next = a;
          if (next.feed(static_cast<uint8_t>(b)) && next.distance() == d - 1) {
            a = next;
            text.push_back(static_cast<char>(b));
            moved = true;
          }
        }
        ASSERT_TRUE(moved) << "stuck after '" << text << "'";
        ++steps;
      }
      EXPECT_EQ(steps, start) << doc.substr(0, cut);
      EXPECT_TRUE(nlohmann::json::accept(text)) << text;
    }
}

}  // namespace
}  // namespace dseek::server
