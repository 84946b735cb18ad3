// Continuous batching: one engine thread runs the model for every active
// request at once. Each step, sequences that are decoding contribute one
// token and sequences still reading their prompt contribute a chunk, all in
// one forward pass; new requests join between steps and finished or
// cancelled ones leave. A bounded queue refuses work at once when full,
// instead of piling it up.
//
// Invariant the kernels keep: a token's logits do not depend on which other
// tokens share its batch (every product is computed per token), so a
// request's greedy output is the same alone or batched.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "engine/prefix_cache.h"
#include "engine/sampler.h"
#include "model/model.h"

namespace dseek {

struct GenerationRequest {
  std::vector<int32_t> prompt;
  SamplingParams sampling;
  int64_t max_new_tokens = 256;
  std::vector<int32_t> stop_tokens;  // end the answer (not part of the output)
  int top_logprobs = -1;             // < 0: no log-probabilities; 0..20: that many alternatives
  std::string cache_namespace;       // prefix-cache isolation, e.g. a hash of the API key
  // Runs on the engine thread before each draw and may mask logits (set
  // -inf), e.g. for JSON-constrained decoding. `output` is the answer so far.
  std::function<void(std::span<float> logits, std::span<const int32_t> output)> constrain;
};

enum class FinishReason { kStop, kLength, kCancelled, kError };
const char* finish_reason_name(FinishReason r);

struct TokenLogprob {
  int32_t token;
  float logprob;
};

struct GenerationEvent {
  enum class Kind { kToken, kFinished };
  Kind kind = Kind::kToken;
  int32_t token = -1;
  float logprob = 0;               // of the chosen token under the model's distribution
  std::vector<TokenLogprob> top;   // the top_logprobs most likely tokens
  // kFinished:
  FinishReason finish = FinishReason::kStop;
  std::string error;
  int64_t prompt_tokens = 0;
  int64_t cached_prompt_tokens = 0;  // restored from the prefix cache
  int64_t completion_tokens = 0;
};

// The consumer's end of one request.
class GenerationStream {
 public:
  // Waits for the next event; false if none came within `timeout`.
  bool next(GenerationEvent& event, std::chrono::milliseconds timeout);
  // Stops the request; its slot is freed at the next step.
  void cancel() { cancelled_ = true; }

 private:
  friend class Scheduler;
  void push(GenerationEvent event);
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<GenerationEvent> events_;
  std::atomic<bool> cancelled_{false};
};

struct SchedulerOptions {
  int64_t max_sequences = 8;      // requests decoding at once
  int64_t max_queue = 16;         // waiting requests; more are refused
  int64_t max_batch_tokens = 512; // tokens per forward pass (prefill chunks fill what decoding leaves)
  int64_t max_context = 4096;     // prompt + answer per request
  // When the engine is idle, a request that arrives waits up to this long
  // for others that come with it (each within `arrival_gap` of the last), so
  // that they read the weights for their prompts in one pass instead of two.
  std::chrono::microseconds arrival_window{20000};
  std::chrono::microseconds arrival_gap{5000};
  PrefixCache* prefix_cache = nullptr;
};

struct SchedulerStats {
  int64_t queued = 0;
  int64_t active = 0;
  int64_t last_batch_tokens = 0;
  int64_t last_batch_sequences = 0;
  int64_t steps = 0;
  int64_t prompt_tokens = 0;
  int64_t cached_prompt_tokens = 0;
  int64_t completion_tokens = 0;
};

class Scheduler {
 public:
  Scheduler(Model& model, SchedulerOptions options);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  enum class Refusal { kNone, kQueueFull, kInvalid };
  struct Submitted {
    std::shared_ptr<GenerationStream> stream;
    Refusal refusal = Refusal::kNone;
    std::string message;  // why, when refused
  };
  // Never blocks: queues the request or says why not.
  Submitted submit(GenerationRequest request);

  SchedulerStats stats() const;
  const SchedulerOptions& options() const { return options_; }

 private:
  struct Sequence;
  void loop();
  void gather_arrivals(std::unique_lock<std::mutex>& lock);
  void step(std::vector<std::unique_ptr<Sequence>>& active);
  void finish(Sequence& s, FinishReason reason, const std::string& error = {});

  Model& model_;
  SchedulerOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<Sequence>> queue_;
  bool stopping_ = false;
  SchedulerStats stats_;
  std::thread thread_;
};

}  // namespace dseek
