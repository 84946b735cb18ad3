// Text generation on one sequence, for the terminal commands (generate,
// chat): prompt ids in, streamed text out. Combines the model's forward
// pass, the sampler, stop tokens and stop strings, UTF-8-safe streaming
// detokenization and the reasoning/content split. The KV cache is kept
// between calls, and a new prompt that starts with what the cache already
// holds (the next turn of a chat) only computes the new tokens.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/sampler.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace dseek {

struct TextGenerationOptions {
  SamplingParams sampling;
  int64_t max_new_tokens = 256;
  std::vector<int32_t> stop_tokens;       // end the answer; not part of it
  std::vector<std::string> stop_strings;  // the answer ends before the first one
  bool split_reasoning = false;           // route text inside <think>...</think> to on_reasoning
  bool starts_in_reasoning = false;       // the prompt opened the block (R1's "<think>\n")
  const std::atomic<bool>* interrupt = nullptr;  // set (e.g. by Ctrl-C) to stop the answer
};

struct TextCallbacks {
  std::function<void(std::string_view)> on_reasoning;
  std::function<void(std::string_view)> on_content;
  std::function<void(int32_t)> on_token;  // every generated id, as it is chosen
};

struct TextGenerationResult {
  std::vector<int32_t> tokens;  // the answer's ids (stop token excluded)
  std::string reasoning;
  std::string content;
  std::string finish_reason;    // "stop", "length" or "interrupted"
  int64_t prompt_tokens = 0;
  int64_t reused_prompt_tokens = 0;  // already in the cache from the previous call
  double prefill_seconds = 0;
  double decode_seconds = 0;
};

class TextGenerator {
 public:
  TextGenerator(Model& model, Tokenizer tokenizer, int64_t max_context);

  Result<TextGenerationResult> generate(std::span<const int32_t> prompt, const TextGenerationOptions& options,
                                        const TextCallbacks& callbacks);
  // Forgets the cached conversation.
  void reset();
  int64_t max_context() const { return max_context_; }

 private:
  Model& model_;
  Tokenizer tokenizer_;
  int64_t max_context_;
  std::unique_ptr<KvCache> cache_;
  std::vector<int32_t> cached_;  // the ids whose KV rows the cache holds
};

}  // namespace dseek
