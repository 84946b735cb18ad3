// What the subcommands share: options every command takes, and turning their
// values into a loaded model.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "engine/sampler.h"
#include "model/model.h"
#include "util/result.h"
#include "util/thread_pool.h"

namespace dseek::cli {

struct ModelOptions {
  std::string model_path;
  int threads = 0;  // 0: physical cores
  std::string mla = "absorbed";
  std::string kv_type = "f16";
  bool pack_for_batches = false;  // default per command: on for serve
  double pack_budget_gib = 0;     // 0: an eighth of physical memory
};

void add_model_options(CLI::App& cmd, ModelOptions& options);

// The sampling flags every generating command takes.
struct SamplingFlags {
  double temperature = 0.8;
  int64_t top_k = 40;
  double top_p = 0.95;
  double min_p = 0.05;
  double repeat_penalty = 1.0;
  double frequency_penalty = 0.0;
  double presence_penalty = 0.0;
  int64_t seed = -1;  // -1: random
  SamplingParams params() const;
};
void add_sampling_options(CLI::App& cmd, SamplingFlags& flags);

struct LoadedModel {
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<Model> model;
};

Result<LoadedModel> load(const ModelOptions& options);

// "1,2,3" -> ids, each checked against [0, vocab_size) when vocab_size > 0.
Result<std::vector<int32_t>> parse_token_list(const std::string& text, int64_t vocab_size);

// Prints "dseek: <message>" and returns the exit status for a failed command.
int report(const Error& error);

}  // namespace dseek::cli
