// Continuous batching: requests that share forward passes produce exactly
// what each produces alone; the queue refuses at once when full; cancel,
// stop tokens, max tokens, logprobs and invalid requests behave as specified.
#include "engine/scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>

#include <cmath>

#include "engine/greedy.h"
#include "model_runner.h"
#include "test_data.h"

namespace dseek {
namespace {

using namespace std::chrono_literals;

struct Outcome {
  std::vector<int32_t> tokens;
  std::vector<GenerationEvent> events;
  GenerationEvent finished;
};

Outcome drain(GenerationStream& stream) {
  Outcome o;
  GenerationEvent e;
  while (stream.next(e, 60s)) {
    if (e.kind == GenerationEvent::Kind::kFinished) {
      o.finished = e;
      return o;
    }
    o.tokens.push_back(e.token);
    o.events.push_back(e);
  }
  ADD_FAILURE() << "no finish event within 60 s";
  return o;
}

std::vector<int32_t> slice(const std::vector<int32_t>& v, size_t begin, size_t n) {
  EXPECT_LE(begin + n, v.size());
  n = std::min(n, v.size() - std::min(begin, v.size()));
  return std::vector<int32_t>(v.begin() + begin, v.begin() + begin + n);
}

GenerationRequest greedy_request(std::vector<int32_t> prompt, int64_t n) {
  GenerationRequest r;
  r.prompt = std::move(prompt);
  r.sampling.temperature = 0;
  r.max_new_tokens = n;
  return r;
}

TEST(Scheduler, BatchedRequestsEqualEachRunAlone) {
  testing::Golden g = testing::read_golden("deepseek-v3-tiny-fp8");
  testing::LoadedModel m = testing::load_or_fail(g.model_path);
  ASSERT_TRUE(m.model);
  std::vector<std::vector<int32_t>> prompts;
  for (size_t i = 0; i < 6; ++i) prompts.push_back(slice(g.tokens, 3 * i, 5 + 11 * i));
  std::vector<std::vector<int32_t>> alone;
  for (const auto& p : prompts) {
    auto cache = m.model->new_cache(128);
    auto out = generate_greedy(*m.model, *cache, p, 20);
    ASSERT_TRUE(out.ok()) << out.error().message;
    alone.push_back(out.value());
  }
  SchedulerOptions options;
  options.max_sequences = 4;  // two requests wait, then join mid-flight
  options.max_batch_tokens = 40;  // long prompts are read in chunks alongside decoding
  options.max_context = 128;
  Scheduler scheduler(*m.model, options);
  std::vector<std::shared_ptr<GenerationStream>> streams;
  for (const auto& p : prompts) {
    auto sub = scheduler.submit(greedy_request(p, 20));
    ASSERT_EQ(sub.refusal, Scheduler::Refusal::kNone) << sub.message;
    streams.push_back(sub.stream);
  }
  for (size_t i = 0; i < prompts.size(); ++i) {
    Outcome o = drain(*streams[i]);
    EXPECT_EQ(o.tokens, alone[i]) << "request " << i;
    EXPECT_EQ(o.finished.finish, FinishReason::kLength);
    EXPECT_EQ(o.finished.prompt_tokens, static_cast<int64_t>(prompts[i].size()));
    EXPECT_EQ(o.finished.completion_tokens, 20);
  }
  SchedulerStats stats = scheduler.stats();
  EXPECT_GT(stats.steps, 0);
  EXPECT_EQ(stats.completion_tokens, 6 * 20);
}

// Requests that arrive at an idle engine close together are read in one
// forward pass: a window of 1 s with gaps of up to 200 ms takes three
// requests sent 5 ms apart, where a scheduler that starts at the first
// arrival would make a step for each.
TEST(Scheduler, RequestsArrivingTogetherShareTheirFirstStep) {
  testing::Golden g = testing::read_golden("qwen2-tiny");
  testing::LoadedModel m = testing::load_or_fail(g.model_path);
  ASSERT_TRUE(m.model);
  SchedulerOptions options;
  options.max_context = 64;
  options.arrival_window = 1s;
  options.arrival_gap = 200ms;
  Scheduler scheduler(*m.model, options);
  std::vector<std::shared_ptr<GenerationStream>> streams;
  for (size_t i = 0; i < 3; ++i) {
    auto sub = scheduler.submit(greedy_request(slice(g.tokens, i, 4), 1));
    ASSERT_EQ(sub.refusal, Scheduler::Refusal::kNone) << sub.message;
    streams.push_back(sub.stream);
    std::this_thread::sleep_for(5ms);
  }
  for (auto& s : streams) EXPECT_EQ(drain(*s).finished.completion_tokens, 1);
  const SchedulerStats stats = scheduler.stats();
  EXPECT_EQ(stats.steps, 1);
  EXPECT_EQ(stats.last_batch_sequences, 3);
}

TEST(Scheduler, FullQueueRefusesAtOnce) {
  testing::Golden g = testing::read_golden("qwen2-tiny");
  testing::LoadedModel m = testing::load_or_fail(g.model_path);
  ASSERT_TRUE(m.model);
  SchedulerOptions options;
  options.max_sequences = 1;
  options.max_queue = 2;
  options.max_context = 256;
  Scheduler scheduler(*m.model, options);
  std::vector<std::shared_ptr<GenerationStream>> streams;
  int refused = 0;
  for (int i = 0; i < 8; ++i) {
    auto start = std::chrono::steady_clock::now();
    auto sub = scheduler.submit(greedy_request(slice(g.tokens, 0, 10), 200));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 100ms);  // never waits for room
    if (sub.refusal == Scheduler::Refusal::kQueueFull) {
      ++refused;
      EXPECT_NE(sub.message.find("busy"), std::string::npos);
    } else {
      streams.push_back(sub.stream);
    }
  }
  EXPECT_GE(refused, 5);  // 1 running + 2 waiting at most (one may have been admitted meanwhile)
  for (auto& s : streams) s->cancel();
  for (auto& s : streams) EXPECT_EQ(drain(*s).finished.finish, FinishReason::kCancelled);
}

TEST(Scheduler, CancelFreesTheSlot) {
  testing::Golden g = testing::read_golden("qwen2-tiny");
  testing::LoadedModel m = testing::load_or_fail(g.model_path);
  ASSERT_TRUE(m.model);
  SchedulerOptions options;
  options.max_sequences = 1;
  options.max_context = 256;
  Scheduler scheduler(*m.model, options);
  // The engine holds at the second draw until the request is cancelled: a
  // tiny model decodes all 240 tokens in a few milliseconds, faster than the
  // test thread may get to cancel().
  GenerationRequest request = greedy_request(slice(g.tokens, 0, 10), 240);
  auto cancelled = std::make_shared<std::atomic<bool>>(false);
  request.constrain = [cancelled](std::span<float>, std::span<const int32_t> output) {
    const auto give_up = std::chrono::steady_clock::now() + 30s;
    while (output.size() == 1 && !cancelled->load() && std::chrono::steady_clock::now() < give_up)
      std::this_thread::sleep_for(1ms);
  };
  auto first = scheduler.submit(std::move(request)).stream;
  GenerationEvent e;
  ASSERT_TRUE(first->next(e, 30s));
  first->cancel();
  cancelled->store(true);
  auto second = scheduler.submit(greedy_request(slice(g.tokens, 0, 10), 3)).stream;
  Outcome o1 = drain(*first);
  EXPECT_EQ(o1.finished.finish, FinishReason::kCancelled);
  EXPECT_LT(o1.finished.completion_tokens, 240);
  EXPECT_EQ(drain(*second).tokens.size(), 3u);
}

TEST(Scheduler, StopTokenEndsTheAnswerWithoutAppearingInIt) {
  testing::Golden g = testing::read_golden("llama3-tiny");
  testing::LoadedModel m = testing::load_or_fail(g.model_path);
  ASSERT_TRUE(m.model);
  SchedulerOptions options;
  options.max_context = 256;
  Scheduler scheduler(*m.model, options);
  GenerationRequest r = greedy_request(g.tokens, 32);
  r.stop_tokens = {g.greedy[5]};
  Outcome o = drain(*scheduler.submit(r).stream);
  size_t first_stop = std::find(g.greedy.begin(), g.greedy.end(), g.greedy[5]) - g.greedy.begin();
  EXPECT_EQ(o.tokens, slice(g.greedy, 0, first_stop));
  EXPECT_EQ(o.finished.finish, FinishReason::kStop);
}

TEST(Scheduler, LogprobsAreTheModelsLogSoftmax) {
  testing::Golden g = testing::read_golden("deepseek-v2-tiny");
  testing::LoadedModel m = testing::load_or_fail(g.model_path);
  ASSERT_TRUE(m.model);
  SchedulerOptions options;
  options.max_context = 128;
  Scheduler scheduler(*m.model, options);
  GenerationRequest r = greedy_request(g.tokens, 1);
  r.top_logprobs = 5;
  Outcome o = drain(*scheduler.submit(r).stream);
  ASSERT_EQ(o.events.size(), 1u);
  const GenerationEvent& e = o.events[0];
  ASSERT_EQ(e.top.size(), 5u);
  // The reference's logits at the last prompt position.
  const float* ref = g.logits.data() + (g.rows - 1) * g.cols;
  double max_l = -1e300, total = 0;
  for (int64_t i = 0; i < g.cols; ++i) max_l = std::max(max_l, static_cast<double>(ref[i]));
  for (int64_t i = 0; i < g.cols; ++i) total += std::exp(ref[i] - max_l);
  for (const auto& t : e.top) EXPECT_NEAR(t.logprob, ref[t.token] - max_l - std::log(total), 1e-3);
  for (size_t i = 1; i < e.top.size(); ++i) EXPECT_GE(e.top[i - 1].logprob, e.top[i].logprob);
  EXPECT_EQ(e.token, e.top[0].token);  // greedy
  EXPECT_FLOAT_EQ(e.logprob, e.top[0].logprob);
}

TEST(Scheduler, SeededSamplingIsReproducibleAndBatchIndependent) {
  testing::Golden g = testing::read_golden("deepseek-v2-lite-tiny");
  testing::LoadedModel m = testing::load_or_fail(g.model_path);
  ASSERT_TRUE(m.model);
  SchedulerOptions options;
  options.max_context = 128;
  Scheduler scheduler(*m.model, options);
  auto request = [&](uint64_t seed) {
    GenerationRequest r;
    r.prompt = slice(g.tokens, 0, 30);
    r.sampling.temperature = 0.9;
    r.sampling.top_p = 0.95;
    r.sampling.seed = seed;
    r.max_new_tokens = 24;
    return r;
  };
  std::vector<int32_t> alone = drain(*scheduler.submit(request(5)).stream).tokens;
  auto a = scheduler.submit(request(5)).stream;
  auto b = scheduler.submit(request(6)).stream;
  auto c = scheduler.submit(request(5)).stream;
  EXPECT_EQ(drain(*a).tokens, alone);
  std::vector<int32_t> other = drain(*b).tokens;
  EXPECT_EQ(drain(*c).tokens, alone);
  EXPECT_NE(other, alone);
}

TEST(Scheduler, InvalidRequestsAreRefusedWithAReason) {
  testing::Golden g = testing::read_golden("qwen2-tiny");
  testing::LoadedModel m = testing::load_or_fail(g.model_path);
  ASSERT_TRUE(m.model);
  SchedulerOptions options;
  options.max_context = 64;
  Scheduler scheduler(*m.model, options);
  auto refused = [&](GenerationRequest r, const std::string& fragment) {
    auto sub = scheduler.submit(std::move(r));
    EXPECT_EQ(sub.refusal, Scheduler::Refusal::kInvalid);
    EXPECT_NE(sub.message.find(fragment), std::string::npos) << sub.message;
  };
  refused(greedy_request({}, 1), "empty");
  refused(greedy_request(slice(g.tokens, 0, 60), 10), "exceeds the context of 64");
  refused(greedy_request({1, 999}, 1), "out of range");
  refused(greedy_request({1}, 0), "max_tokens");
  GenerationRequest r = greedy_request({1}, 1);
  r.sampling.top_p = 7;
  refused(r, "top_p");
  r = greedy_request({1}, 1);
  r.top_logprobs = 21;
  refused(r, "top_logprobs");
}

}  // namespace
}  // namespace dseek
