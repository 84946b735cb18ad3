// From an API request to prompt tokens: the chat template over the
// messages (with tools described to the model when its template does not do
// it, and chat prefix completion), or the fill-in-the-middle layout of
// DeepSeek's FIM tokens for /completions with a suffix.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "server/api_request.h"
#include "server/text_model.h"

namespace dseek::server {

// What the server learns once about the model's template.
struct ModelTraits {
  bool reasoning = false;      // the generation prompt opens a <think> block (R1-style)
  bool v3_tool_format = true;  // tool calls as "function<sep>name\n```json\nargs\n```"
  static ModelTraits probe(const TextModel& text);
};

struct BuiltPrompt {
  std::vector<int32_t> tokens;
  std::string text;                  // rendered (for --log-content only)
  bool starts_in_reasoning = false;  // the answer begins inside <think>
};

std::variant<BuiltPrompt, ApiError> build_chat_prompt(const TextModel& text, const ModelTraits& traits,
                                                      const ChatRequest& request);
std::variant<BuiltPrompt, ApiError> build_completion_prompt(const TextModel& text, const CompletionRequest& request);

}  // namespace dseek::server
