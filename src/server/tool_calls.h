// Reading the tool calls a DeepSeek model wrote with its tool-call tokens
// into the OpenAI form (name + arguments text). The text is what the model
// produced from <｜tool▁calls▁begin｜> on, with every control token as its
// text. Two layouts exist:
//   V3/R1:  <｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\nARGS\n```<｜tool▁call▁end｜>
//   V3.1+:  <｜tool▁call▁begin｜>NAME<｜tool▁sep｜>ARGS<｜tool▁call▁end｜>
// Calls follow each other (V3 puts a newline between them) and the block
// ends with <｜tool▁calls▁end｜> (or the end of the answer).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dseek::server {

struct ParsedToolCall {
  std::string name;
  std::string arguments;  // as the model wrote it (JSON text)
};

// nullopt when the text is not a complete, well-formed block (cut short by
// max_tokens, or not tool calls at all): the caller then shows it as text.
std::optional<std::vector<ParsedToolCall>> parse_tool_calls(std::string_view text);

}  // namespace dseek::server
