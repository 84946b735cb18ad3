// A small, fully known TextModel for server tests that must not depend on a
// real tokenizer: ids 0..255 are single bytes, then a few multi-byte words
// (so that tokens can split UTF-8 characters and JSON punctuation), then
// DeepSeek's control tokens by their real texts; any ids left up to
// vocab_size have no bytes. The chat format follows DeepSeek-V3's template
// (optionally R1's "<think>\n" generation prompt).
#pragma once

#include <string>
#include <vector>

#include "server/text_model.h"

namespace dseek::testing {

class FakeTextModel : public server::TextModel {
 public:
  struct Options {
    int32_t vocab_size = 384;
    bool reasoning = false;     // generation prompt ends with "<think>\n"
    bool v31_tools = false;     // tool calls without type and fences
    bool renders_tools = false;
  };
  FakeTextModel() : FakeTextModel(Options{}) {}
  explicit FakeTextModel(Options options);

  Result<std::vector<int32_t>> encode(std::string_view text, bool allow_control) const override;
  std::string_view token_bytes(int32_t id) const override;
  bool is_control(int32_t id) const override;
  bool is_special(int32_t id) const override { return id == bos_ || id == eos_; }
  std::optional<int32_t> control_id(std::string_view text) const override;
  int32_t vocab_size() const override { return options_.vocab_size; }
  int32_t bos_id() const override { return bos_; }
  int32_t eos_id() const override { return eos_; }
  Result<std::string> render_chat(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                                  bool add_generation_prompt) const override;
  bool template_renders_tools() const override { return options_.renders_tools; }

  const std::vector<std::string>& words() const { return words_; }
  int32_t first_word() const { return 256; }

 private:
  Options options_;
  std::vector<std::string> words_;     // ids 256 ...
  std::vector<std::string> controls_;  // after the words
  int32_t first_control_ = 0;
  int32_t bos_ = -1, eos_ = -1;
};

}  // namespace dseek::testing
