// Feeds arbitrary bytes to the API's request-body parsers (chat and
// completions) as a request body. Every refusal must be a 400 or 422 whose
// error JSON is itself valid; every acceptance must respect the limits.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "server/api_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dseek::server;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  RequestLimits limits;
  auto check_error = [](const ApiError& e) {
    if (e.status != 400 && e.status != 422) __builtin_trap();
    if (!nlohmann::json::accept(e.to_json())) __builtin_trap();
  };
  auto chat = parse_chat_request(body, limits);
  if (auto* e = std::get_if<ApiError>(&chat)) {
    check_error(*e);
  } else {
    const ChatRequest& r = std::get<ChatRequest>(chat);
    if (r.messages.empty() || r.messages.size() > limits.max_messages) __builtin_trap();
    if (r.max_tokens < 1 || r.max_tokens > limits.max_tokens) __builtin_trap();
    if (r.stop.size() > limits.max_stop || r.top_logprobs > 20) __builtin_trap();
    if (r.temperature < 0 || r.temperature > 2 || r.top_p < 0 || r.top_p > 1) __builtin_trap();
  }
  auto completion = parse_completion_request(body, limits);
  if (auto* e = std::get_if<ApiError>(&completion)) check_error(*e);
  return 0;
}
