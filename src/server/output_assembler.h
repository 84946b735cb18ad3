// Turns the tokens a request generates into what the API returns, the same
// way whether it is streamed or not (so both give identical text): token
// bytes -> whole UTF-8 characters (a token may end inside one) -> stop
// strings (text after a stop string is never shown) -> reasoning / content
// split for reasoning models. Special tokens (BOS, padding, placeholders)
// add no text, as with Hugging Face's skip_special_tokens. From the tool-calls token on, output is held
// as a tool-call block and parsed at the end. Log-probabilities are reported
// per token, with each token's text and bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/scheduler.h"
#include "engine/text_stream.h"
#include "server/text_model.h"

namespace dseek::server {

struct TokenLogprob {
  std::string token;           // its text (invalid UTF-8 replaced)
  std::vector<uint8_t> bytes;  // its exact bytes
  float logprob = 0;
  std::vector<TokenLogprob> top;
};

struct OutputDelta {
  std::string reasoning;
  std::string content;
  std::vector<TokenLogprob> logprobs;
  bool empty() const { return reasoning.empty() && content.empty() && logprobs.empty(); }
};

struct AssemblerOptions {
  std::vector<std::string> stop;
  bool starts_in_reasoning = false;  // the prompt opened a <think> block
  bool split_reasoning = false;      // a reasoning model: split at </think>
  int32_t tool_calls_begin = -1;     // >= 0: this token starts a tool-call block
  bool logprobs = false;
};

class OutputAssembler {
 public:
  OutputAssembler(const TextModel& text, AssemblerOptions options);

  OutputDelta add(const GenerationEvent& token);
  OutputDelta finish();  // what is still held, at the end

  bool stop_string_hit() const { return stops_.stopped(); }
  bool in_tool_calls() const { return in_tool_calls_; }
  const std::string& tool_text() const { return tool_text_; }
  int64_t reasoning_tokens() const { return reasoning_tokens_; }

  // The text of one token (for logprobs, echo): invalid UTF-8 replaced.
  TokenLogprob describe(int32_t token, float logprob) const;

 private:
  void emit(std::string text, OutputDelta& out, bool final);

  const TextModel& text_;
  AssemblerOptions options_;
  StopStringMatcher stops_;
  ReasoningSplitter splitter_;
  std::string held_bytes_;  // the start of a character not yet complete
  bool in_tool_calls_ = false;
  std::string tool_text_;
  int64_t reasoning_tokens_ = 0;
};

// Replaces every invalid UTF-8 sequence with U+FFFD.
std::string valid_utf8(std::string_view bytes);
// Bytes at the end of `bytes` that begin a character not yet complete (0..3).
size_t incomplete_utf8_tail(std::string_view bytes);

}  // namespace dseek::server
