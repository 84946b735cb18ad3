// dseek bench MODEL [-p 512] [-n 128] [-b 1,4,8] [-t THREADS] [-r 5] [--json]
//
// Measures as llama-bench does: prompt processing (ppP: P prompt tokens in
// one forward pass into an empty cache, logits for the last one) and text
// generation (tgN: N single-token forward passes from an empty cache, each
// reading its logits; with -b B > 1, "tgN bB": B sequences in each pass, as
// a server's decode step for B clients), each repeated -r times after one warm-up run, and
// reports tokens per second as mean and standard deviation. Token ids are
// random (fixed seed): speed does not depend on them.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "kernels/kernels.h"

namespace dseek::cli {

namespace {

using Clock = std::chrono::steady_clock;

struct TestResult {
  std::string name;
  int64_t n_prompt = 0, n_gen = 0;
  int64_t batch = 1;  // sequences per generation step
  std::vector<double> samples_ts;  // tokens per second (all sequences), one per repetition
  std::vector<double> samples_cpu_s;  // CPU seconds (user + system, all threads) per repetition
  double mean() const {
    double s = 0;
    for (double v : samples_ts) s += v;
    return samples_ts.empty() ? 0 : s / static_cast<double>(samples_ts.size());
  }
  double stddev() const {
    if (samples_ts.size() < 2) return 0;
    const double m = mean();
    double s = 0;
    for (double v : samples_ts) s += (v - m) * (v - m);
    return std::sqrt(s / static_cast<double>(samples_ts.size() - 1));
  }
};

std::vector<int32_t> random_tokens(int64_t n, int64_t vocab, std::mt19937& rng) {
  std::uniform_int_distribution<int32_t> id(0, static_cast<int32_t>(vocab - 1));
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (auto& v : t) v = id(rng);
  return t;
}

// One prompt-processing run: seconds.
Result<double> run_pp(Model& model, int64_t n_prompt, std::mt19937& rng, std::vector<float>& logits) {
  auto cache = model.new_cache(n_prompt);
  const auto tokens = random_tokens(n_prompt, model.config().vocab_size, rng);
  SequenceInput in{cache.get(), tokens, false, logits.data()};
  const auto t0 = Clock::now();
  DSEEK_TRY(model.forward(std::span<SequenceInput>(&in, 1)));
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// One generation run: n_gen steps, each one forward pass of `batch`
// sequences with one new token each (batch > 1: what a server's decode step
// does for that many clients, as llama-batched-bench measures); seconds.
Result<double> run_tg(Model& model, int64_t n_gen, int64_t batch, std::mt19937& rng, std::vector<float>& logits) {
  std::vector<std::unique_ptr<KvCache>> caches;
  for (int64_t b = 0; b < batch; ++b) caches.push_back(model.new_cache(n_gen));
  const auto tokens = random_tokens(n_gen * batch, model.config().vocab_size, rng);
  const int64_t vocab = model.config().vocab_size;
  std::vector<SequenceInput> in(static_cast<size_t>(batch));
  const auto t0 = Clock::now();
  for (int64_t i = 0; i < n_gen; ++i) {
    for (int64_t b = 0; b < batch; ++b)
      in[b] = SequenceInput{caches[b].get(), std::span<const int32_t>(&tokens[i * batch + b], 1), false,
                            logits.data() + b * vocab};
    DSEEK_TRY(model.forward(std::span<SequenceInput>(in)));
  }
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Median round trip of an almost empty parallel loop over every thread:
// what each of the hundreds of loops of a decode step costs in hand-off.
// With `pause_us` between loops the workers have gone to sleep (the pool
// spins for 200 us first), so the round trip includes waking them.
double pool_round_trip_us(ThreadPool& pool, int loops, int pause_us) {
  std::vector<double> us;
  std::atomic<int64_t> sink{0};
  for (int i = 0; i < loops; ++i) {
    if (pause_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(pause_us));
    const auto t0 = Clock::now();
    pool.parallel_for(pool.size(), 1, [&](int64_t b, int64_t e, int) { sink += e - b; });
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  std::nth_element(us.begin(), us.begin() + us.size() / 2, us.end());
  return us[us.size() / 2];
}

long peak_rss_kb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

// User + system CPU seconds of the process so far (every thread).
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

}  // namespace

void register_bench(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("bench", "prompt-processing and generation speed, as llama-bench measures them");
  struct Options {
    ModelOptions model;
    int64_t n_prompt = 512;
    int64_t n_gen = 128;
    std::vector<int64_t> batches{1};
    int repetitions = 5;
    bool json = false;
    bool warmup = true;
  };
  auto o = std::make_shared<Options>();
  add_model_options(*cmd, o->model);
  cmd->add_option("-p,--n-prompt", o->n_prompt, "prompt tokens (0: skip the test)")->check(CLI::Range(int64_t{0}, int64_t{1} << 20));
  cmd->add_option("-n,--n-gen", o->n_gen, "generated tokens (0: skip the test)")->check(CLI::Range(int64_t{0}, int64_t{1} << 20));
  cmd->add_option("-b,--batch", o->batches,
                  "sequences decoding together in the generation test (several: one test each, e.g. -b 1,4,8)")
      ->delimiter(',')
      ->check(CLI::Range(int64_t{1}, int64_t{256}));
  cmd->add_option("-r,--repetitions", o->repetitions, "runs of each test")->check(CLI::Range(1, 1000));
  cmd->add_flag("--json", o->json, "print the results as JSON");
  cmd->add_flag("!--no-warmup", o->warmup, "skip the warm-up run of each test");
  cmd->callback([o, &exit_code] {
    auto loaded = load(o->model);
    if (!loaded) {
      exit_code = report(loaded.error());
      return;
    }
    Model& model = *loaded->model;
    const int64_t context = std::max(o->n_prompt, o->n_gen);
    if (context > model.config().max_position_embeddings) {
      exit_code = report(Error{"-p/-n exceed the model's context of " +
                               std::to_string(model.config().max_position_embeddings) + " tokens"});
      return;
    }
    std::mt19937 rng(1234);
    const int64_t max_batch = *std::max_element(o->batches.begin(), o->batches.end());
    std::vector<float> logits(static_cast<size_t>(model.config().vocab_size * max_batch));
    std::vector<TestResult> results;
    auto run_test = [&](const std::string& name, int64_t p, int64_t n, int64_t batch) -> Status {
      TestResult r;
      r.name = name;
      r.n_prompt = p;
      r.n_gen = n;
      r.batch = batch;
      auto once = [&]() -> Result<double> {
        return p > 0 ? run_pp(model, p, rng, logits) : run_tg(model, n, batch, rng, logits);
      };
      if (o->warmup) {
        // llama-bench warms up with one batch / one token; a full run also
        // brings the weights into memory.
        auto w = once();
        if (!w) return w.error();
      }
      for (int i = 0; i < o->repetitions; ++i) {
        const double cpu0 = cpu_seconds();
        auto s = once();
        if (!s) return s.error();
        r.samples_ts.push_back(static_cast<double>(p + n * batch) / s.value());
        r.samples_cpu_s.push_back(cpu_seconds() - cpu0);
      }
      results.push_back(r);
      return ok_status();
    };
    if (o->n_prompt > 0) {
      if (auto s = run_test("pp" + std::to_string(o->n_prompt), o->n_prompt, 0, 1); !s) {
        exit_code = report(s.error());
        return;
      }
    }
    if (o->n_gen > 0) {
      for (int64_t batch : o->batches) {
        const std::string name = "tg" + std::to_string(o->n_gen) + (batch > 1 ? " b" + std::to_string(batch) : "");
        if (auto s = run_test(name, 0, o->n_gen, batch); !s) {
          exit_code = report(s.error());
          return;
        }
      }
    }
    const double pool_us = pool_round_trip_us(*loaded->pool, 3000, 0);
    const double pool_wake_us = pool_round_trip_us(*loaded->pool, 200, 1000);
    const char* kernels = kernels::active_table().name;
    if (o->json) {
      nlohmann::json out = nlohmann::json::array();
      for (const TestResult& r : results)
        out.push_back({{"test", r.name}, {"model", o->model.model_path}, {"n_prompt", r.n_prompt}, {"n_gen", r.n_gen}, {"batch", r.batch},
                       {"n_threads", loaded->pool->size()}, {"kernels", kernels}, {"avg_ts", r.mean()},
                       {"stddev_ts", r.stddev()}, {"samples_ts", r.samples_ts}, {"samples_cpu_s", r.samples_cpu_s},
                       {"peak_rss_kb", peak_rss_kb()}, {"pool_round_trip_us", pool_us},
                       {"pool_wake_round_trip_us", pool_wake_us}});
      std::printf("%s\n", out.dump(2).c_str());
      return;
    }
    std::printf("| model | threads | kernels | test | t/s | CPU s per run |\n| --- | ---: | --- | ---: | ---: | ---: |\n");
    for (const TestResult& r : results) {
      double cpu = 0;
      for (double c : r.samples_cpu_s) cpu += c;
      std::printf("| %s | %d | %s | %s | %.2f ± %.2f | %.2f |\n", o->model.model_path.c_str(), loaded->pool->size(),
                  kernels, r.name.c_str(), r.mean(), r.stddev(), cpu / static_cast<double>(r.samples_cpu_s.size()));
    }
    std::printf("\npeak RSS %.2f GiB; thread pool round trip (median) %.2f us, waking sleeping workers %.2f us\n",
                peak_rss_kb() / 1048576.0, pool_us, pool_wake_us);
  });
}

}  // namespace dseek::cli
