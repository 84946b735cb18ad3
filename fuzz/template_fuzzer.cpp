// Arbitrary bytes as a chat template, parsed and rendered with a
// conversation that reaches every branch of the real templates (system
// prompts, reasoning, several tool calls and outputs, tools, thinking flags).
// Small limits make hostile templates (deep nesting, exponential strings or
// lists, endless loops, recursive macros, cycles through namespaces) end in
// an error quickly; the fuzzer checks that nothing crashes, hangs, leaks or
// overflows the stack, and that a successful render stays within its limit.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "chat/jinja/template.h"

namespace {

const nlohmann::ordered_json& context() {
  static const auto* c = new nlohmann::ordered_json(nlohmann::ordered_json::parse(R"({
    "messages": [
      {"role": "system", "content": "You are helpful."},
      {"role": "user", "content": "Weather in Paris and 東京? \"quoted\" \\ <tag>"},
      {"role": "assistant", "content": null, "reasoning_content": "Two cities.", "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}},
        {"id": "call_2", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Tokyo", "n": 2}}}]},
      {"role": "tool", "tool_call_id": "call_1", "content": "18 C"},
      {"role": "tool", "tool_call_id": "call_2", "content": "24 C"},
      {"role": "assistant", "content": "<think>\nok\n</think>\n\nParis 18, Tokyo 24.", "prefix": false},
      {"role": "user", "content": ""}
    ],
    "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather",
      "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "n": {"type": "integer", "default": 1.5}},
                     "required": ["city"]}}}],
    "add_generation_prompt": true,
    "bos_token": "<｜begin▁of▁sentence｜>",
    "eos_token": "<｜end▁of▁sentence｜>",
    "thinking": true,
    "enable_thinking": false
  })"));
  return *c;
}

dseek::jinja::TemplateLimits limits() {
  dseek::jinja::TemplateLimits l;
  l.max_template_bytes = 64 << 10;
  l.render.max_output_bytes = 256 << 10;
  l.render.max_list_items = 1 << 12;
  l.render.max_loop_iterations = 20000;
  l.render.max_work = 20000000;
  return l;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const dseek::jinja::TemplateLimits kLimits = limits();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto t = dseek::jinja::Template::parse(text, kLimits);
  if (!t) {
    if (t.error().message.empty()) __builtin_trap();
    return 0;
  }
  dseek::jinja::RenderOptions options;
  options.now_unix_seconds = 1722000000;
  auto out = t->render(context(), options);
  if (out.ok() && out.value().size() > kLimits.render.max_output_bytes) __builtin_trap();
  if (!out.ok() && out.error().message.empty()) __builtin_trap();
  return 0;
}
