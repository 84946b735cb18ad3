// The tokenizer rebuilt from a GGUF file's tokenizer.ggml.* metadata gives the
// same ids as the tokenizer.json of the same model: llama.cpp's own GGUFs of
// the micro models (written by its converter) and dseek-converted ones.
#include <gtest/gtest.h>

#include "test_data.h"
#include "test_files.h"
#include "tokenizer/load.h"

namespace dseek {
namespace {

std::vector<std::string> corpus() {
  return {"Hello world! The quick brown fox jumps over the lazy dog.",
          "  leading spaces\tand tabs\r\nCRLF lines\n\n\n",
          "numbers 1 12 123 1234 12345 3.14159 -42",
          "code: int main() { return x->y[3] + 0x1F; } // done",
          "中文文本和日本語のテキスト、한국어",
          "emoji 👍🏽 👨‍👩‍👧 and symbols ∑ ∫ ≠",
          "<｜begin▁of▁sentence｜>special tokens in text<｜end▁of▁sentence｜>",
          std::string("invalid \xff\xfe utf-8 \xc3", 19),
          ""};
}

class GgufTokenizer : public ::testing::TestWithParam<std::string> {};

TEST_P(GgufTokenizer, SameIdsAsTokenizerJson) {
  const std::string dir = testing::repo_path("tests/data/llamacpp/" + GetParam());
  auto from_json = load_tokenizer(dir + "/hf");
  ASSERT_TRUE(from_json.ok()) << from_json.error().message;
  auto from_gguf = load_tokenizer(dir + "/model-f32.gguf");
  ASSERT_TRUE(from_gguf.ok()) << from_gguf.error().message;
  EXPECT_EQ(from_gguf->vocab_size(), from_json->vocab_size());
  // llama.cpp's converter records a BOS id even where HF has none (Qwen2); it
  // is not added either way, which the encodings below check.
  if (from_json->bos_id() >= 0) EXPECT_EQ(from_gguf->bos_id(), from_json->bos_id());
  EXPECT_EQ(from_gguf->eos_id(), from_json->eos_id());
  for (const std::string& text : corpus()) {
    for (bool special : {false, true}) {
      EncodeOptions o;
      o.add_special_tokens = special;
      auto a = from_json->encode(text, o);
      auto b = from_gguf->encode(text, o);
      ASSERT_TRUE(a.ok() && b.ok());
      EXPECT_EQ(b.value(), a.value()) << "text: " << text << " add_special_tokens=" << special;
      EXPECT_EQ(from_gguf->decode(b.value()), from_json->decode(a.value()));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(LlamaCppFiles, GgufTokenizer,
                         ::testing::Values("deepseek2-v2-micro", "deepseek2-v3-micro", "llama-micro", "qwen2-micro"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

TEST(GgufTokenizer, ClearErrorsForFilesWithoutATokenizer) {
  const std::string dir = testing::make_temp_dir("gguf-tok");
  // A GGUF with no metadata at all: magic, version 3, no tensors, no keys.
  std::string bytes = std::string("GGUF") + std::string("\x03\0\0\0", 4) + std::string(16, '\0');
  testing::write_file(dir + "/empty.gguf", bytes);
  auto t = load_tokenizer(dir + "/empty.gguf");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("carries no tokenizer"), std::string::npos) << t.error().message;
  EXPECT_FALSE(load_tokenizer(dir + "/missing").ok());
}

}  // namespace
}  // namespace dseek
