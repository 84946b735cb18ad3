#include "engine/scheduler.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace dseek {

const char* finish_reason_name(FinishReason r) {
  switch (r) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kCancelled: return "cancelled";
    case FinishReason::kError: return "error";
  }
  return "?";
}

bool GenerationStream::next(GenerationEvent& event, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!ready_.wait_for(lock, timeout, [&] { return !events_.empty(); })) return false;
  event = std::move(events_.front());
  events_.pop_front();
  return true;
}

void GenerationStream::push(GenerationEvent event) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    events_.push_back(std::move(event));
  }
  ready_.notify_one();
}

struct Scheduler::Sequence {
  GenerationRequest request;
  std::shared_ptr<GenerationStream> stream;
  std::unique_ptr<KvCache> cache;
  std::unique_ptr<Sampler> sampler;
  std::vector<int32_t> output;
  int64_t consumed = 0;  // prompt tokens in the cache (restored or computed)
  int64_t cached = 0;    // of which restored from the prefix cache
  bool done = false;
  // This step's share of the batch.
  std::vector<int32_t> step_tokens;
  std::vector<float> logits;
  std::vector<float> raw_logits;  // before `constrain`, when there is one
};

Scheduler::Scheduler(Model& model, SchedulerOptions options) : model_(model), options_(options) {
  thread_ = std::thread([this] { loop(); });
}

Scheduler::~Scheduler() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

Scheduler::Submitted Scheduler::submit(GenerationRequest request) {
  Submitted out;
  const int64_t vocab = model_.config().vocab_size;
  auto refuse = [&](Refusal r, std::string message) {
    out.refusal = r;
    out.message = std::move(message);
    return out;
  };
  if (request.prompt.empty()) return refuse(Refusal::kInvalid, "the prompt is empty");
  for (int32_t t : request.prompt)
    if (t < 0 || t >= vocab) return refuse(Refusal::kInvalid, "prompt token " + std::to_string(t) + " is out of range");
  if (request.max_new_tokens < 1) return refuse(Refusal::kInvalid, "max_tokens must be at least 1");
  const int64_t need = static_cast<int64_t>(request.prompt.size()) + request.max_new_tokens;
  if (need > options_.max_context)
    return refuse(Refusal::kInvalid, "prompt (" + std::to_string(request.prompt.size()) + " tokens) + max_tokens (" +
                                         std::to_string(request.max_new_tokens) + ") exceeds the context of " +
                                         std::to_string(options_.max_context) + " tokens");
  if (Status s = request.sampling.validate(); !s) return refuse(Refusal::kInvalid, s.error().message);
  if (request.top_logprobs > 20) return refuse(Refusal::kInvalid, "top_logprobs must be at most 20");

  auto seq = std::make_unique<Sequence>();
  seq->stream = std::make_shared<GenerationStream>();
  seq->sampler = std::make_unique<Sampler>(request.sampling);
  seq->request = std::move(request);
  out.stream = seq->stream;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (static_cast<int64_t>(queue_.size()) >= options_.max_queue)
      return refuse(Refusal::kQueueFull, "the server is busy: " + std::to_string(queue_.size()) + " requests are waiting");
    queue_.push_back(std::move(seq));
    stats_.queued = static_cast<int64_t>(queue_.size());
  }
  wake_.notify_one();
  return out;
}

SchedulerStats Scheduler::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void Scheduler::finish(Sequence& s, FinishReason reason, const std::string& error) {
  if (s.done) return;
  s.done = true;
  if (options_.prefix_cache && reason != FinishReason::kError) {
    // Offer prompt and answer: the next turn of a conversation starts with both.
    std::vector<int32_t> tokens = s.request.prompt;
    tokens.insert(tokens.end(), s.output.begin(), s.output.end());
    options_.prefix_cache->store(s.request.cache_namespace, tokens, *s.cache);
  }
  GenerationEvent e;
  e.kind = GenerationEvent::Kind::kFinished;
  e.finish = reason;
  e.error = error;
  e.prompt_tokens = static_cast<int64_t>(s.request.prompt.size());
  e.cached_prompt_tokens = s.cached;
  e.completion_tokens = static_cast<int64_t>(s.output.size());
  s.stream->push(std::move(e));
}

void Scheduler::loop() {
  std::vector<std::unique_ptr<Sequence>> active;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty() || !active.empty(); });
      if (active.empty()) gather_arrivals(lock);
      if (stopping_) break;
      while (static_cast<int64_t>(active.size()) < options_.max_sequences && !queue_.empty()) {
        active.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      stats_.queued = static_cast<int64_t>(queue_.size());
      stats_.active = static_cast<int64_t>(active.size());
    }
    for (auto& s : active) {
      if (s->cache) continue;  // admitted earlier
      s->cache = model_.new_cache(options_.max_context);
      if (options_.prefix_cache) {
        // The last prompt token is always computed: its logits start the answer.
        s->cached = options_.prefix_cache->restore(s->request.cache_namespace, s->request.prompt,
                                                   static_cast<int64_t>(s->request.prompt.size()) - 1, *s->cache);
        s->consumed = s->cached;
      }
    }
    step(active);
    std::erase_if(active, [](const std::unique_ptr<Sequence>& s) { return s->done; });
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.active = static_cast<int64_t>(active.size());  // finished ones are gone now, not at the next admission
  }
  for (auto& s : active) finish(*s, FinishReason::kCancelled, "the server is shutting down");
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& s : queue_) finish(*s, FinishReason::kCancelled, "the server is shutting down");
}

void Scheduler::gather_arrivals(std::unique_lock<std::mutex>& lock) {
  const auto until = std::chrono::steady_clock::now() + options_.arrival_window;
  size_t seen = queue_.size();
  while (!stopping_ && static_cast<int64_t>(seen) < options_.max_sequences) {
    const auto deadline = std::min(until, std::chrono::steady_clock::now() + options_.arrival_gap);
    wake_.wait_until(lock, deadline, [&] { return stopping_ || queue_.size() > seen; });
    if (queue_.size() == seen) break;  // a gap with no arrival, or the window is over
    seen = queue_.size();
  }
}

void Scheduler::step(std::vector<std::unique_ptr<Sequence>>& active) {
  const int64_t vocab = model_.config().vocab_size;
  // Decoding sequences first (one token each, for latency), then prompt
  // chunks in arrival order with the budget that is left.
  int64_t budget = options_.max_batch_tokens;
  std::vector<Sequence*> batch;
  for (auto& s : active) {
    if (s->stream->cancelled_) {
      finish(*s, FinishReason::kCancelled);
      continue;
    }
    s->step_tokens.clear();
    if (s->consumed == static_cast<int64_t>(s->request.prompt.size()) && !s->output.empty()) {
      s->step_tokens.push_back(s->output.back());
      budget -= 1;
      batch.push_back(s.get());
    }
  }
  for (auto& s : active) {
    if (s->done || !s->step_tokens.empty() || budget <= 0) continue;
    const int64_t left = static_cast<int64_t>(s->request.prompt.size()) - s->consumed;
    if (left <= 0) continue;
    const int64_t n = std::min(left, budget);
    s->step_tokens.assign(s->request.prompt.begin() + s->consumed, s->request.prompt.begin() + s->consumed + n);
    budget -= n;
    batch.push_back(s.get());
  }
  if (batch.empty()) return;

  std::vector<SequenceInput> inputs;
  for (Sequence* s : batch) {
    s->logits.resize(static_cast<size_t>(vocab));
    inputs.push_back({s->cache.get(), s->step_tokens, false, s->logits.data()});
  }
  Status status = model_.forward(inputs);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.steps++;
    stats_.last_batch_sequences = static_cast<int64_t>(batch.size());
    stats_.last_batch_tokens = options_.max_batch_tokens - budget;
  }
  if (!status) {
    for (Sequence* s : batch) finish(*s, FinishReason::kError, status.error().message);
    return;
  }

  for (Sequence* s : batch) {
    const bool was_prefill = s->consumed < static_cast<int64_t>(s->request.prompt.size());
    if (was_prefill) {
      s->consumed += static_cast<int64_t>(s->step_tokens.size());
      if (s->consumed < static_cast<int64_t>(s->request.prompt.size())) continue;  // more prompt to read
      std::lock_guard<std::mutex> lock(mutex_);
      stats_.prompt_tokens += static_cast<int64_t>(s->request.prompt.size());
      stats_.cached_prompt_tokens += s->cached;
    }
    GenerationEvent e;
    float log_total = 0;
    if (s->request.top_logprobs >= 0) {
      // Log-probabilities of the model's own distribution (before sampling settings).
      const float max_logit = *std::max_element(s->logits.begin(), s->logits.end());
      double total = 0;
      for (float l : s->logits) total += std::exp(static_cast<double>(l) - max_logit);
      log_total = static_cast<float>(std::log(total)) + max_logit;
      std::vector<int32_t> order(static_cast<size_t>(vocab));
      std::iota(order.begin(), order.end(), 0);
      const int64_t k = std::min<int64_t>(s->request.top_logprobs, vocab);
      std::partial_sort(order.begin(), order.begin() + k, order.end(),
                        [&](int32_t a, int32_t b) { return s->logits[a] > s->logits[b]; });
      for (int64_t i = 0; i < k; ++i) e.top.push_back({order[i], s->logits[order[i]] - log_total});
    }
    if (s->request.constrain) {
      s->raw_logits = s->logits;  // logprobs describe the model, not the mask
      s->request.constrain(s->logits, s->output);
    }
    const int32_t token = s->sampler->sample(s->logits, s->request.prompt, s->output);
    if (s->request.top_logprobs >= 0) e.logprob = (s->request.constrain ? s->raw_logits : s->logits)[token] - log_total;
    if (std::find(s->request.stop_tokens.begin(), s->request.stop_tokens.end(), token) != s->request.stop_tokens.end()) {
      finish(*s, FinishReason::kStop);
      continue;
    }
    s->output.push_back(token);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stats_.completion_tokens++;
    }
    e.kind = GenerationEvent::Kind::kToken;
    e.token = token;
    s->stream->push(std::move(e));
    if (static_cast<int64_t>(s->output.size()) >= s->request.max_new_tokens) finish(*s, FinishReason::kLength);
  }
}

}  // namespace dseek
