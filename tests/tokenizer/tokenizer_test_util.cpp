#include "tokenizer/tokenizer_test_util.h"

#include <gtest/gtest.h>

#include "tokenizer/byte_level.h"

namespace dseek::testing {

nlohmann::json byte_tokenizer_json(const std::vector<std::pair<std::string, std::string>>& merges) {
  nlohmann::json vocab = nlohmann::json::object();
  for (int b = 0; b < 256; ++b) vocab[byte_level::encode(std::string(1, static_cast<char>(b)))] = b;
  nlohmann::json merge_list = nlohmann::json::array();
  int next = 256;
  for (const auto& [a, b] : merges) {
    std::string ea = byte_level::encode(a), eb = byte_level::encode(b);
    merge_list.push_back(ea + " " + eb);
    if (!vocab.contains(ea + eb)) vocab[ea + eb] = next++;
  }
  return {
      {"version", "1.0"},
      {"added_tokens", nlohmann::json::array()},
      {"normalizer", nullptr},
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", false}}},
      {"post_processor", nullptr},
      {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}}},
      {"model",
       {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"fuse_unk", false}, {"byte_fallback", false},
        {"vocab", vocab}, {"merges", merge_list}}},
  };
}

std::optional<Tokenizer> make_tokenizer(const nlohmann::json& tokenizer_json, const nlohmann::json& config) {
  auto t = Tokenizer::from_json(tokenizer_json.dump(), config.is_null() ? "" : config.dump());
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
  if (!t.ok()) return std::nullopt;
  return std::move(t.value());
}

std::string load_error(const nlohmann::json& tokenizer_json, const nlohmann::json& config) {
  auto t = Tokenizer::from_json(tokenizer_json.dump(), config.is_null() ? "" : config.dump());
  EXPECT_FALSE(t.ok()) << "accepted: " << tokenizer_json.dump().substr(0, 300);
  return t.ok() ? "" : t.error().message;
}

std::vector<int32_t> byte_ids(const std::string& text) {
  std::vector<int32_t> ids;
  for (char c : text) ids.push_back(static_cast<uint8_t>(c));
  return ids;
}

std::string show_ids(const std::vector<int32_t>& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(ids[i]);
  }
  return s + "]";
}

std::string show_bytes(const std::string& bytes) {
  std::string s;
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      s += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      s += buf;
    }
  }
  return s;
}

}  // namespace dseek::testing
