#include "text/generation.h"

#include <algorithm>
#include <chrono>

#include "engine/text_stream.h"
#include "tokenizer/stream_detokenizer.h"

namespace dseek {

namespace {
double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}
// Prompt chunks bound the activations a forward pass allocates.
constexpr int64_t kPrefillChunk = 512;
}  // namespace

TextGenerator::TextGenerator(Model& model, Tokenizer tokenizer, int64_t max_context)
    : model_(model), tokenizer_(std::move(tokenizer)), max_context_(max_context), cache_(model.new_cache(max_context)) {}

void TextGenerator::reset() {
  cache_->truncate(0);
  cached_.clear();
}

Result<TextGenerationResult> TextGenerator::generate(std::span<const int32_t> prompt,
                                                     const TextGenerationOptions& options,
                                                     const TextCallbacks& callbacks) {
  if (prompt.empty()) return Error{"the prompt is empty"};
  DSEEK_TRY(options.sampling.validate());
  const int64_t n_prompt = static_cast<int64_t>(prompt.size());
  if (n_prompt + 1 > max_context_)
    return Error{"the prompt is " + std::to_string(n_prompt) + " tokens; the context holds " +
                 std::to_string(max_context_)};
  TextGenerationResult result;
  result.prompt_tokens = n_prompt;

  // Keep the part of the cache this prompt starts with; the last prompt
  // token is always computed, its logits start the answer.
  int64_t keep = 0;
  while (keep < static_cast<int64_t>(cached_.size()) && keep < n_prompt - 1 && cached_[keep] == prompt[keep]) ++keep;
  cache_->truncate(keep);
  cached_.resize(static_cast<size_t>(keep));
  result.reused_prompt_tokens = keep;

  const int64_t vocab = model_.config().vocab_size;
  std::vector<float> logits(static_cast<size_t>(vocab));
  const auto prefill_start = std::chrono::steady_clock::now();
  for (int64_t begin = keep; begin < n_prompt; begin += kPrefillChunk) {
    const int64_t n = std::min(kPrefillChunk, n_prompt - begin);
    SequenceInput input{cache_.get(), prompt.subspan(static_cast<size_t>(begin), static_cast<size_t>(n)), false,
                        logits.data()};
    if (Status s = model_.forward(std::span<SequenceInput>(&input, 1)); !s) {
      reset();
      return s.error();
    }
    cached_.insert(cached_.end(), prompt.begin() + begin, prompt.begin() + begin + n);
  }
  result.prefill_seconds = seconds_since(prefill_start);

  Sampler sampler(options.sampling);
  StreamDetokenizer detokenizer(tokenizer_);
  StopStringMatcher stops(options.stop_strings);
  ReasoningSplitter splitter(options.starts_in_reasoning);
  auto emit = [&](const std::string& text, bool final) {
    std::string visible = stops.feed(text);
    if (final) visible += stops.flush();
    ReasoningSplitter::Delta d;
    if (options.split_reasoning) {
      d = splitter.feed(visible);
      if (final) {
        ReasoningSplitter::Delta rest = splitter.flush();
        d.reasoning += rest.reasoning;
        d.content += rest.content;
      }
    } else {
      d.content = visible;
    }
    if (!d.reasoning.empty()) {
      result.reasoning += d.reasoning;
      if (callbacks.on_reasoning) callbacks.on_reasoning(d.reasoning);
    }
    if (!d.content.empty()) {
      result.content += d.content;
      if (callbacks.on_content) callbacks.on_content(d.content);
    }
  };

  const int64_t room = max_context_ - n_prompt;
  const int64_t max_new = std::min(options.max_new_tokens, room);
  const auto decode_start = std::chrono::steady_clock::now();
  result.finish_reason = "length";
  for (int64_t i = 0; i < max_new; ++i) {
    if (options.interrupt && options.interrupt->load()) {
      result.finish_reason = "interrupted";
      break;
    }
    const int32_t token = sampler.sample(logits, prompt, result.tokens);
    if (std::find(options.stop_tokens.begin(), options.stop_tokens.end(), token) != options.stop_tokens.end()) {
      result.finish_reason = "stop";
      break;
    }
    result.tokens.push_back(token);
    if (callbacks.on_token) callbacks.on_token(token);
    emit(detokenizer.push(token), false);
    if (stops.stopped()) {
      result.finish_reason = "stop";
      break;
    }
    if (i + 1 == max_new) break;
    SequenceInput input{cache_.get(), std::span<const int32_t>(&result.tokens.back(), 1), false, logits.data()};
    if (Status s = model_.forward(std::span<SequenceInput>(&input, 1)); !s) {
      reset();
      return s.error();
    }
    cached_.push_back(token);
  }
  emit(detokenizer.flush(), true);
  result.decode_seconds = seconds_since(decode_start);
  return result;
}

}  // namespace dseek
