// dseek convert against llama.cpp's files and against dseek's own HF path:
//  - the five fixture folders converted to f32 / q8_0 / q4_0 give the same
//    tensor bytes as the GGUFs llama.cpp's tools made of the same weights
//    (tests/data/llamacpp/*/model-*.gguf), and the same model metadata,
//    vocabulary, token types, merges and pre-tokenizer name;
//  - every tiny model of tests/data/models round-trips: logits on the f32
//    GGUF equal those on the HF folder (1e-5 relative), every quantized type
//    within tier 3 of them;
//  - the older combined attn_kv_b layout runs like the split one.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>

#include <nlohmann/json.hpp>

#include "convert/hf_to_gguf.h"
#include "formats/gguf.h"
#include "convert/synthetic_model.h"
#include "logits_compare.h"
#include "model/architectures.h"
#include "test_data.h"

namespace dseek {
namespace {

namespace fs = std::filesystem;
namespace tol = testing::tolerance;

std::string temp_path(const std::string& name) { return (fs::path(::testing::TempDir()) / name).string(); }

Status convert(const std::string& src, const std::string& dst, DType type, KvbLayout layout = KvbLayout::kSplit) {
  ThreadPool pool(2);
  ConvertOptions o;
  o.type = type;
  o.pool = &pool;
  o.kv_b_layout = layout;
  return convert_to_gguf(src, dst, o);
}

std::vector<float> logits_of(const std::string& path, const std::vector<int32_t>& tokens,
                             MlaMode mode = MlaMode::kAbsorbed) {
  ThreadPool pool(2);
  LoadOptions options;
  options.pool = &pool;
  options.mla_mode = mode;
  auto model = load_model(path, options);
  EXPECT_TRUE(model.ok()) << (model.ok() ? "" : model.error().message);
  if (!model.ok()) return {};
  Model& m = *model.value();
  std::vector<float> logits(tokens.size() * static_cast<size_t>(m.config().vocab_size));
  auto cache = m.new_cache(static_cast<int64_t>(tokens.size()));
  SequenceInput input{cache.get(), tokens, true, logits.data()};
  auto s = m.forward(std::span<SequenceInput>(&input, 1));
  EXPECT_TRUE(s.ok());
  return logits;
}

std::map<std::string, Tensor> tensors_by_name(const GgufFile& f) {
  std::map<std::string, Tensor> out;
  auto tensors = f.tensors();
  EXPECT_TRUE(tensors.ok());
  if (tensors.ok())
    for (const Tensor& t : tensors.value()) out[t.name] = t;
  return out;
}

// Same tensors (names, types, shapes, bytes) as llama.cpp's file.
void expect_same_tensors(const GgufFile& ours, const GgufFile& theirs, const std::string& what) {
  const auto a = tensors_by_name(ours), b = tensors_by_name(theirs);
  ASSERT_EQ(a.size(), b.size()) << what;
  for (const auto& [name, t] : b) {
    auto it = a.find(name);
    ASSERT_NE(it, a.end()) << what << ": missing " << name;
    const Tensor& o = it->second;
    EXPECT_EQ(o.dtype, t.dtype) << what << " " << name;
    EXPECT_EQ(o.shape_string(), t.shape_string()) << what << " " << name;
    ASSERT_EQ(o.n_bytes, t.n_bytes) << what << " " << name;
    EXPECT_EQ(0, std::memcmp(o.data, t.data, static_cast<size_t>(t.n_bytes))) << what << ": bytes of " << name;
  }
}

// Same architecture metadata and vocabulary as llama.cpp's file.
void expect_same_metadata(const GgufFile& ours, const GgufFile& theirs, const std::string& what) {
  const std::string arch(*theirs.header.find("general.architecture")->as_string());
  for (const auto& [key, value] : theirs.header.metadata) {
    const bool compared = key.rfind(arch + ".", 0) == 0 || key == "general.file_type" ||
                          key == "tokenizer.ggml.model" || key == "tokenizer.ggml.pre" ||
                          key == "tokenizer.ggml.bos_token_id" || key == "tokenizer.ggml.eos_token_id" ||
                          key == "tokenizer.ggml.tokens" || key == "tokenizer.ggml.token_type" ||
                          key == "tokenizer.ggml.merges";
    if (!compared) continue;
    const GgufValue* v = ours.header.find(key);
    ASSERT_NE(v, nullptr) << what << ": missing " << key;
    EXPECT_EQ(v->type, value.type) << what << " " << key;
    if (value.is_array()) {
      ASSERT_EQ(v->count, value.count) << what << " " << key;
      EXPECT_EQ(v->strings, value.strings) << what << " " << key;
      for (uint64_t i = 0; value.elements && i < value.count; ++i)
        ASSERT_EQ(v->element(i).bits, value.element(i).bits) << what << " " << key << "[" << i << "]";
    } else {
      EXPECT_EQ(v->describe(), value.describe()) << what << " " << key;
    }
  }
}

TEST(Convert, FixtureFoldersGiveLlamaCppsTensorBytesAndMetadata) {
  for (const char* model : {"deepseek2-v2-micro", "deepseek2-v3-micro", "deepseek2-v3-micro-fp8", "llama-micro",
                            "qwen2-micro"}) {
    const std::string dir = testing::repo_path(std::string("tests/data/llamacpp/") + model + "/");
    for (auto [type, file] : {std::pair{DType::F32, "model-f32.gguf"}, {DType::Q8_0, "model-q8_0.gguf"},
                              {DType::Q4_0, "model-q4_0.gguf"}}) {
      if (!fs::exists(dir + file)) continue;
      const std::string out = temp_path(std::string(model) + "-" + file);
      auto s = convert(dir + "hf", out, type);
      ASSERT_TRUE(s.ok()) << s.error().message;
      auto ours = open_gguf(out);
      ASSERT_TRUE(ours.ok()) << ours.error().message;
      auto theirs = open_gguf(dir + file);
      ASSERT_TRUE(theirs.ok());
      const std::string what = std::string(model) + " " + file;
      expect_same_tensors(ours.value(), theirs.value(), what);
      expect_same_metadata(ours.value(), theirs.value(), what);
      fs::remove(out);
    }
  }
}

// Relative RMS difference per position, worst over positions.
double max_rel_rms(const std::vector<float>& ref, const std::vector<float>& test, int64_t rows) {
  EXPECT_EQ(ref.size(), test.size());
  if (ref.size() != test.size() || rows == 0) return INFINITY;
  return testing::compare_logits(ref.data(), test.data(), rows, static_cast<int64_t>(ref.size()) / rows).max_rel_rms;
}

struct RoundTripCase {
  std::string name, folder;
  std::vector<int32_t> tokens;
  bool realistic_scale;  // weights at the scale of real models (std 0.02)
};

std::vector<RoundTripCase> round_trip_cases() {
  std::vector<RoundTripCase> cases;
  const std::vector<int32_t> short_prompt = {1, 17, 250, 99, 3, 42, 7, 300, 128, 5, 64, 200, 11, 310, 77, 2};
  for (const auto& entry : fs::directory_iterator(testing::repo_path("tests/data/models")))
    cases.push_back({entry.path().filename().string(), entry.path().string(), short_prompt, false});
  for (const char* m : {"deepseek2-v2-micro", "deepseek2-v3-micro", "deepseek2-v3-micro-fp8", "llama-micro", "qwen2-micro"}) {
    const std::string dir = testing::repo_path(std::string("tests/data/llamacpp/") + m);
    cases.push_back({m, dir + "/hf", testing::read_id_list(dir + "/tokens.txt"), true});
  }
  std::vector<int32_t> prompt;
  for (int i = 0; i < 48; ++i) prompt.push_back((i * 97 + 13) % 384);
  cases.push_back({"llama-kquant (synthetic)", testing::make_kquant_llama(temp_path("llama-kquant")), prompt, true});
  return cases;
}

// Every model: f32 GGUF == HF folder. For every type, the quantized file
// computes exactly what its dequantized weights say (a GGUF -> f32 GGUF
// conversion of it gives the same logits, 1e-5): that is what the quantized
// path must get right; its distance from the f32 logits is the format's own
// error. Tier 3 against the f32 logits is asserted for the types it fits:
// f16 and bf16 everywhere, Q8_0 (and Q6_K, which is Q8_0 or itself) on
// weights at real models' scale. The 4-bit-and-below types move these
// random-weight logits by 7-40% (printed), far beyond tier 3 (which was made
// for a quantized file against its own weights, not against f32).
TEST(Convert, EveryModelRoundTripsThroughEveryType) {
  for (const RoundTripCase& rc : round_trip_cases()) {
    const auto& tokens = rc.tokens;
    const int64_t rows = static_cast<int64_t>(tokens.size());
    const auto hf = logits_of(rc.folder, tokens);
    const std::string f32 = temp_path("rt-f32.gguf");
    auto s = convert(rc.folder, f32, DType::F32);
    ASSERT_TRUE(s.ok()) << s.error().message;
    const double same = max_rel_rms(hf, logits_of(f32, tokens), rows);
    std::printf("[ convert ] %-24s f32  max rel RMS vs HF folder %.3g\n", rc.name.c_str(), same);
    EXPECT_LE(same, tol::kSameWeightsMaxRelRms) << rc.name;
    fs::remove(f32);
    for (DType t : {DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q6_K, DType::Q5_K, DType::Q4_K,
                    DType::Q3_K, DType::Q2_K}) {
      const std::string what = rc.name + " " + std::string(dtype_info(t).name);
      const std::string path = temp_path("rt-q.gguf"), dequantized = temp_path("rt-dq.gguf");
      auto q = convert(rc.folder, path, t);
      ASSERT_TRUE(q.ok()) << q.error().message;
      auto dq = convert(path, dequantized, DType::F32);
      ASSERT_TRUE(dq.ok()) << dq.error().message;
      int of_type = 0;
      {
        auto file = open_gguf(path);
        ASSERT_TRUE(file.ok());
        for (const auto& info : file->header.tensors) of_type += ggml_type_info(info.ggml_type)->dtype == t;
      }
      const auto logits = logits_of(path, tokens);
      ASSERT_EQ(logits.size(), hf.size()) << what;
      const double exact = max_rel_rms(logits_of(dequantized, tokens), logits, rows);
      EXPECT_LE(exact, tol::kSameWeightsMaxRelRms) << what;
      const auto c = testing::compare_logits(hf.data(), logits.data(), rows, static_cast<int64_t>(hf.size()) / rows);
      std::printf("[ convert ] %-24s %-4s (%2d tensors of the type) vs dequantized %.2g; vs f32: %s\n",
                  rc.name.c_str(), dtype_info(t).name.data(), of_type, exact, c.summary().c_str());
      const bool eight_bits = t == DType::Q8_0 || t == DType::Q6_K;
      if (t == DType::F16 || t == DType::BF16 || (eight_bits && rc.realistic_scale)) {
        EXPECT_LE(c.median_rel_rms, tol::kQuantMedianRelRms) << what;
        EXPECT_GE(c.fraction_rel_rms_le_5pct, tol::kQuantMinFractionLe5Pct) << what;
        EXPECT_LE(c.mean_kl, tol::kQuantMeanKl) << what;
        EXPECT_GE(c.top1_agreement, tol::kQuantMinTop1) << what;
      }
      if (rc.name == "llama-kquant (synthetic)") {
        EXPECT_EQ(of_type, 16) << what;  // every 2-D weight is of the type: no fallbacks
      }
      fs::remove(path);
      fs::remove(dequantized);
    }
  }
}

TEST(Convert, CombinedKvBLayoutRunsLikeTheSplitOne) {
  const std::string dir = testing::repo_path("tests/data/llamacpp/deepseek2-v3-micro/");
  const auto tokens = testing::read_id_list(dir + "tokens.txt");
  const auto ref = testing::read_f32_file(dir + "logits-llamacpp-f32gguf.f32");
  const std::string path = temp_path("combined.gguf");
  auto s = convert(dir + "hf", path, DType::F32, KvbLayout::kCombined);
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto file = open_gguf(path);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->header.find("deepseek2.attention.head_count_kv")->as_int().value(), 4);
  EXPECT_EQ(file->header.find("deepseek2.attention.key_length_mla"), nullptr);
  bool combined = false;
  for (const auto& t : file->header.tensors) combined = combined || t.name == "blk.0.attn_kv_b.weight";
  EXPECT_TRUE(combined);
  for (MlaMode mode : {MlaMode::kAbsorbed, MlaMode::kNaive}) {
    const auto logits = logits_of(path, tokens, mode);
    const auto c = testing::compare_logits(ref.data(), logits.data(), static_cast<int64_t>(tokens.size()), 384);
    EXPECT_LE(c.max_rel_rms, tol::kF32MaxRelRms) << c.summary();
  }
  fs::remove(path);
}

TEST(Convert, RejectsWhatItCannotConvert) {
  auto s = convert(testing::repo_path("tests/data/no-such-folder"), temp_path("x.gguf"), DType::F32);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("no-such-folder"), std::string::npos);
  EXPECT_FALSE(fs::exists(temp_path("x.gguf")));
}

}  // namespace
}  // namespace dseek

#include "convert/tokenizer_metadata.h"

namespace dseek {
namespace {

void write_file(const std::string& path, const std::string& text) {
  FILE* f = std::fopen(path.c_str(), "w");
  std::fputs(text.c_str(), f);
  std::fclose(f);
}

// The rules of convert_hf_to_gguf.py's get_vocab_base and SpecialVocab on a
// hand-made tokenizer: ids past the tokenizer become unused [PAD<id>]
// tokens, added tokens are control tokens when special or when they look
// special (<｜...｜>), user-defined otherwise; special ids come from
// tokenizer_config.json names first, config.json ids after.
TEST(ConvertTokenizer, TokenTypesPaddingAndSpecialIds) {
  const std::string dir = temp_path("tok");
  fs::create_directories(dir);
  write_file(dir + "/tokenizer.json", R"({
    "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 4}, "merges": [["a", "b"]]},
    "added_tokens": [{"id": 2, "content": "<｜begin▁of▁sentence｜>", "special": false},
                     {"id": 3, "content": "<think>", "special": false},
                     {"id": 5, "content": "<|x|>", "special": true}],
    "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
      {"type": "Split", "pattern": {"Regex": "\\p{N}{1,3}"}},
      {"type": "Split", "pattern": {"Regex": "[一-龥぀-ゟ゠-ヿ]+"}},
      {"type": "ByteLevel"}]}})");
  write_file(dir + "/tokenizer_config.json",
             R"({"bos_token": {"content": "<｜begin▁of▁sentence｜>"}, "add_bos_token": true, "add_eos_token": false})");
  write_file(dir + "/config.json", R"({"eos_token_id": 3, "bos_token_id": 0})");
  auto t = read_tokenizer_metadata(dir, 8, "deepseek_v3");
  ASSERT_TRUE(t.ok()) << t.error().message;
  ASSERT_TRUE(t->has_value());
  const TokenizerMetadata& m = **t;
  EXPECT_EQ(m.pre, "deepseek-v3");
  EXPECT_EQ(m.tokens, (std::vector<std::string>{"a", "b", "<｜begin▁of▁sentence｜>", "<think>", "ab", "<|x|>", "[PAD6]",
                                                "[PAD7]"}));
  EXPECT_EQ(m.token_types, (std::vector<int32_t>{1, 1, 3, 4, 1, 3, 5, 5}));
  EXPECT_EQ(m.merges, (std::vector<std::string>{"a b"}));
  EXPECT_EQ(m.bos, 2);  // by name from tokenizer_config.json, before config.json's 0
  EXPECT_EQ(m.eos, 3);  // from config.json
  EXPECT_EQ(m.add_bos, std::optional<bool>(true));
  EXPECT_EQ(m.add_eos, std::optional<bool>(false));
  auto too_small = read_tokenizer_metadata(dir, 4, "deepseek_v3");
  ASSERT_FALSE(too_small.ok());
  EXPECT_NE(too_small.error().message.find("not below vocab_size 4"), std::string::npos);
  fs::remove_all(dir);
}

TEST(ConvertTokenizer, PreTokenizerNames) {
  EXPECT_EQ(pre_tokenizer_name({"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", "[一-龥ࠀ-一가-퟿]+", "\\p{N}"}), "deepseek-coder");
  EXPECT_EQ(pre_tokenizer_name({"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+"}),
            "llama-bpe");
  EXPECT_EQ(pre_tokenizer_name({"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+"}),
            "qwen2");
  EXPECT_EQ(pre_tokenizer_name({"\\w+"}), "");
}

}  // namespace
}  // namespace dseek
