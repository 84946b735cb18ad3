// The request bodies of the API, parsed and checked before anything touches
// the model: POST /chat/completions and POST /completions (FIM with
// `suffix`). Every field is checked for type and range; the error names the
// parameter, with DeepSeek's status codes: 400 for a body that is not what
// the API takes (not JSON, wrong types, reasoning_content sent back), 422
// for a value out of range or not supported. Unknown fields are ignored, as
// DeepSeek's API does. The fuzzer fuzz/api_request_fuzzer.cpp drives this.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace dseek::server {

struct ApiError {
  ApiError() = default;
  ApiError(int status_code, std::string text, std::string parameter = {})
      : status(status_code), message(std::move(text)), param(std::move(parameter)) {}

  int status = 400;
  std::string message;
  std::string param;  // the parameter at fault, or empty

  // OpenAI's error "type" for the status.
  const char* type() const;
  // {"error": {"message", "type", "param", "code"}}
  std::string to_json() const;
};

struct RequestLimits {
  int64_t max_tokens = 8192;          // the largest max_tokens accepted
  int64_t default_max_tokens = 4096;  // when the request sets none
  size_t max_messages = 1024;
  size_t max_stop = 16;
  size_t max_stop_bytes = 1024;       // per stop string
  size_t max_tools = 128;
  int max_json_depth = 64;            // nesting of the request body
};

struct SamplingFields {
  std::string model;
  bool stream = false;
  bool include_usage = false;        // stream_options.include_usage
  int64_t max_tokens = 0;            // filled with the default when absent
  bool max_tokens_set = false;       // the request named it (else it shrinks to fit the context)
  double temperature = 1.0;
  double top_p = 1.0;
  double frequency_penalty = 0.0;
  double presence_penalty = 0.0;
  std::optional<uint64_t> seed;
  std::vector<std::string> stop;
  bool logprobs = false;
  int top_logprobs = 0;
};

struct ChatMessage {
  std::string role;                    // system, user, assistant, tool
  std::optional<std::string> content;  // null: an assistant message with tool calls only
  std::string name;
  nlohmann::ordered_json tool_calls;   // assistant: as sent (array), else null
  std::string tool_call_id;            // tool
  bool prefix = false;                 // assistant, last message: continue it (chat prefix completion)
};

struct ToolSpec {
  std::string name;
  std::string description;
  nlohmann::ordered_json parameters;  // JSON schema as sent, or null
};

enum class ToolChoice { kNone, kAuto, kRequired, kNamed };

struct ChatRequest : SamplingFields {
  std::vector<ChatMessage> messages;
  bool json_object = false;  // response_format {type: json_object}
  std::vector<ToolSpec> tools;
  ToolChoice tool_choice = ToolChoice::kNone;
  std::string tool_choice_name;  // kNamed
  bool prefix_completion = false;
};

struct CompletionRequest : SamplingFields {
  std::string prompt;
  std::optional<std::string> suffix;  // fill in the middle
  bool echo = false;
};

std::variant<ChatRequest, ApiError> parse_chat_request(std::string_view body, const RequestLimits& limits);
std::variant<CompletionRequest, ApiError> parse_completion_request(std::string_view body, const RequestLimits& limits);

}  // namespace dseek::server
