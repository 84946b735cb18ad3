// The JSON recognizer of constrained decoding against nlohmann::json's
// parser as the reference: every document nlohmann writes is accepted byte
// by byte and complete exactly at its end; no text the recognizer calls
// complete is rejected by nlohmann (on valid documents and on thousands of
// mutations of them); and the stricter rules (object at the top, UTF-8,
// no unpaired surrogates, limits) hold.
#include "server/json_automaton.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

namespace dseek::server {
namespace {

using json = nlohmann::json;

std::string random_string(std::mt19937& rng) {
  static const std::vector<std::string> pieces = {"a", "Z", " ", "\"", "\\", "/", "\n", "\t", "\x01", "\x1f", "é", "你",
                                                  "😀", "\x7f", "{", "]", ":", ",", "0", "null"};
  std::string s;
  const int n = static_cast<int>(rng() % 6);
  for (int i = 0; i < n; ++i) s += pieces[rng() % pieces.size()];
  return s;
}

json random_value(std::mt19937& rng, int depth) {
  const int kind = static_cast<int>(rng() % (depth > 4 ? 5 : 7));
  switch (kind) {
    case 0: return nullptr;
    case 1: return rng() % 2 == 0;
    case 2: return static_cast<int64_t>(rng()) - static_cast<int64_t>(rng());
    case 3: return std::ldexp(static_cast<double>(rng()) - 2e9, static_cast<int>(rng() % 80) - 40);
    case 4: return random_string(rng);
    case 5: {
      json a = json::array();
      for (int i = static_cast<int>(rng() % 4); i > 0; --i) a.push_back(random_value(rng, depth + 1));
      return a;
    }
    default: {
      json o = json::object();
      for (int i = static_cast<int>(rng() % 4); i > 0; --i) o[random_string(rng)] = random_value(rng, depth + 1);
      return o;
    }
  }
}

json random_object(std::mt19937& rng) {
  json o = json::object();
  for (int i = static_cast<int>(rng() % 5); i > 0; --i) o[random_string(rng)] = random_value(rng, 1);
  return o;
}

// Feeds text; returns the number of bytes accepted.
size_t feed_all(JsonAutomaton& a, std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i)
    if (!a.feed(static_cast<uint8_t>(text[i]))) return i;
  return text.size();
}

TEST(JsonAutomaton, AcceptsWhatTheReferenceWritesAndCompletesAtTheEnd) {
  std::mt19937 rng(1);
  for (int i = 0; i < 2000; ++i) {
    const json doc = random_object(rng);
    for (int indent : {-1, 2}) {
      const std::string text = doc.dump(indent, ' ', /*ensure_ascii=*/i % 3 == 0);
      JsonAutomaton a(true);
      for (size_t k = 0; k < text.size(); ++k) {
        ASSERT_FALSE(a.complete()) << "complete too early at byte " << k << " of " << text;
        ASSERT_TRUE(a.feed(static_cast<uint8_t>(text[k]))) << "refused byte " << k << " of " << text;
      }
      EXPECT_TRUE(a.complete()) << text;
    }
  }
}

TEST(JsonAutomaton, AnyValueModeAcceptsEveryContainerAndLiteral) {
  std::mt19937 rng(2);
  for (int i = 0; i < 1000; ++i) {
    const json v = random_value(rng, 0);
    if (v.is_number()) continue;  // a bare number never ends (nothing marks its end)
    const std::string text = v.dump();
    JsonAutomaton a(false);
    ASSERT_EQ(feed_all(a, text), text.size()) << text;
    EXPECT_TRUE(a.complete()) << text;
  }
}

TEST(JsonAutomaton, NothingItCallsCompleteIsRejectedByTheReference) {
  std::mt19937 rng(3);
  const std::string alphabet = "{}[]\",:\\ \t\n0123456789-+.eEtrufalsn\x01\xC3\xA9\xED\xA0\xF4\x90\x80";
  int complete = 0, checked = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text = random_object(rng).dump(i % 2 ? 1 : -1);
    // 1 to 3 mutations: replace, insert or delete a byte.
    for (int m = 1 + static_cast<int>(rng() % 3); m > 0 && !text.empty(); --m) {
      const size_t pos = rng() % text.size();
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0: text[pos] = c; break;
        case 1: text.insert(text.begin() + static_cast<long>(pos), c); break;
        default: text.erase(pos, 1); break;
      }
    }
    JsonAutomaton a(true);
    const size_t accepted = feed_all(a, text);
    ++checked;
    if (accepted == text.size() && a.complete()) {
      ++complete;
      EXPECT_TRUE(json::accept(text)) << "called complete but invalid: " << text;
      EXPECT_TRUE(json::parse(text).is_object()) << text;
    }
  }
  EXPECT_GT(complete, 100) << "the mutations should leave some documents valid";
  EXPECT_EQ(checked, 20000);
}

TEST(JsonAutomaton, ARefusedByteLeavesTheStateUnchanged) {
  JsonAutomaton a(true);
  ASSERT_TRUE(a.feed(std::string_view("{\"k\":[1")));
  const JsonAutomaton before = a;
  EXPECT_FALSE(a.feed('}'));  // ']' is due first
  EXPECT_TRUE(a == before);
  EXPECT_TRUE(a.feed(std::string_view("]}")));
  EXPECT_TRUE(a.complete());
}

struct Case {
  const char* text;
  bool accepted;  // every byte taken
  bool complete;
};

TEST(JsonAutomaton, SpecificRules) {
  const Case cases[] = {
      {"{}", true, true},
      {" {} ", true, true},
      {"[]", false, false},          // object mode: the top must be an object
      {"\"s\"", false, false},
      {"{\"a\":01}", false, false},  // no leading zeros
      {"{\"a\":-}", false, false},
      {"{\"a\":1.}", false, false},
      {"{\"a\":1.5e+3}", true, true},
      {"{\"a\":-9.5E-99}", true, true},
      {"{\"a\":1e308}", false, false},  // three exponent digits could overflow a double
      {"{\"a\":1,}", false, false},
      {"{\"a\" 1}", false, false},
      {"{\"a\":tru}", false, false},
      {"{\"a\":\"\x01\"}", false, false},         // raw control character
      {"{\"a\":\"\\u00e9\\n\\\"\"}", true, true},
      {"{\"a\":\"\\x\"}", false, false},
      {"{\"a\":\"\\ud83d\\ude00\"}", true, true},  // a surrogate pair
      {"{\"a\":\"\\ud83d\\u0041\"}", false, false},  // a high surrogate alone
      {"{\"a\":\"\\ud83dx\"}", false, false},
      {"{\"a\":\"\\uDFFF\"}", false, false},         // a low surrogate alone
      {"{\"a\":\"\\uD7FF\"}", true, true},
      {"{\"a\":\"\xC0\xAF\"}", false, false},   // overlong
      {"{\"a\":\"\xED\xA0\x80\"}", false, false},  // UTF-8 surrogate
      {"{\"a\":\"\xF4\x90\x80\x80\"}", false, false},  // above U+10FFFF
      {"{\"a\":\"\xF0\x9F\x98\x80\"}", true, true},
      {"{\"a\":[[[]]]}", true, true},
      {"{}{}", false, false},
      {"{\"a\":{\"b\":null}}", true, true},
  };
  for (const Case& c : cases) {
    JsonAutomaton a(true);
    const std::string_view text = c.text;
    const bool all = feed_all(a, text) == text.size();
    EXPECT_EQ(all, c.accepted) << text;
    if (all) {
      EXPECT_EQ(a.complete(), c.complete) << text;
    }
    if (c.accepted && c.complete) {
      EXPECT_TRUE(json::accept(text)) << text;
    }
  }
}

TEST(JsonAutomaton, LimitsBoundDepthNumbersAndWhitespace) {
  JsonAutomaton a(true);
  std::string deep = "{\"a\":";
  for (int i = 1; i < JsonAutomaton::kMaxDepth; ++i) deep += "[";
  EXPECT_EQ(feed_all(a, deep), deep.size());
  EXPECT_FALSE(a.feed('['));
  JsonAutomaton b(true);
  EXPECT_TRUE(b.feed(std::string_view("{\"a\":")));
  for (int i = 0; i < JsonAutomaton::kMaxNumberBytes; ++i) ASSERT_TRUE(b.feed('7'));
  EXPECT_FALSE(b.feed('7'));
  JsonAutomaton c(true);
  EXPECT_TRUE(c.feed('{'));
  for (int i = 0; i < JsonAutomaton::kMaxWhitespaceRun; ++i) ASSERT_TRUE(c.feed(' '));
  EXPECT_FALSE(c.feed(' '));
  EXPECT_TRUE(c.feed('}'));
}

}  // namespace
}  // namespace dseek::server
