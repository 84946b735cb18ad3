#include "cli/common.h"

#include <charconv>
#include <limits>
#include <random>
#include <cstdio>
#include <unistd.h>

#include "model/architectures.h"

namespace dseek::cli {

void add_model_options(CLI::App& cmd, ModelOptions& options) {
  cmd.add_option("MODEL", options.model_path, "Hugging Face model folder or .gguf file")->required();
  cmd.add_option("--threads,-t", options.threads, "threads (default: physical cores)")->check(CLI::Range(0, 1024));
  cmd.add_option("--mla", options.mla, "MLA attention path: absorbed (default) or naive")
      ->check(CLI::IsMember({"absorbed", "naive"}));
  cmd.add_option("--kv-type", options.kv_type, "KV cache element type: f16 (default), bf16 or f32")
      ->check(CLI::IsMember({"f16", "bf16", "f32"}));
  cmd.add_flag("--pack-weights,!--no-pack-weights", options.pack_for_batches,
               "keep a copy of the weights every token reads, rearranged for batches of tokens: faster "
               "batched decode, for up to that much memory again (default: on for serve, off otherwise)");
  cmd.add_option("--pack-weights-gib", options.pack_budget_gib,
                 "memory the packed copy may take at most (default: an eighth of physical memory)")
      ->check(CLI::Range(0.0, 1e6));
}

void add_sampling_options(CLI::App& cmd, SamplingFlags& f) {
  cmd.add_option("--temp", f.temperature, "temperature; 0 is greedy")->check(CLI::Range(0.0, 100.0));
  cmd.add_option("--top-k", f.top_k, "keep the k most likely tokens (0: off)")->check(CLI::Range(int64_t{0}, int64_t{1} << 24));
  cmd.add_option("--top-p", f.top_p, "keep the smallest set whose probability reaches p (1: off)")->check(CLI::Range(0.0, 1.0));
  cmd.add_option("--min-p", f.min_p, "drop tokens below p times the most likely one's probability (0: off)")
      ->check(CLI::Range(0.0, 1.0));
  cmd.add_option("--repeat-penalty", f.repeat_penalty, "penalty for tokens already seen (1: off)")->check(CLI::Range(0.01, 100.0));
  cmd.add_option("--frequency-penalty", f.frequency_penalty, "OpenAI-style, per occurrence in the answer")->check(CLI::Range(-2.0, 2.0));
  cmd.add_option("--presence-penalty", f.presence_penalty, "OpenAI-style, once per token in the answer")->check(CLI::Range(-2.0, 2.0));
  cmd.add_option("--seed", f.seed, "random seed; the same seed gives the same output (default: random)")
      ->check(CLI::Range(int64_t{-1}, std::numeric_limits<int64_t>::max()));
}

SamplingParams SamplingFlags::params() const {
  SamplingParams p;
  p.temperature = temperature;
  p.top_k = top_k;
  p.top_p = top_p;
  p.min_p = min_p;
  p.repetition_penalty = repeat_penalty;
  p.frequency_penalty = frequency_penalty;
  p.presence_penalty = presence_penalty;
  p.seed = seed >= 0 ? static_cast<uint64_t>(seed) : std::random_device{}();
  return p;
}

namespace {
int64_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? static_cast<int64_t>(pages) * page : int64_t{8} << 30;
}
}  // namespace

Result<LoadedModel> load(const ModelOptions& options) {
  LoadedModel loaded;
  loaded.pool = std::make_unique<ThreadPool>(options.threads > 0 ? options.threads : physical_core_count());
  LoadOptions load_options;
  load_options.pool = loaded.pool.get();
  load_options.mla_mode = options.mla == "naive" ? MlaMode::kNaive : MlaMode::kAbsorbed;
  load_options.kv_cache_type = options.kv_type == "f32" ? DType::F32 : options.kv_type == "bf16" ? DType::BF16 : DType::F16;
  load_options.show_progress = isatty(STDERR_FILENO);
  load_options.pack_for_batches = options.pack_for_batches;
  load_options.pack_budget_bytes = options.pack_budget_gib > 0
                                       ? static_cast<int64_t>(options.pack_budget_gib * (1 << 30))
                                       : physical_memory_bytes() / 8;
  auto model = load_model(options.model_path, load_options);
  if (!model) return model.error();
  loaded.model = std::move(model.value());
  return loaded;
}

Result<std::vector<int32_t>> parse_token_list(const std::string& text, int64_t vocab_size) {
  std::vector<int32_t> ids;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string_view item(text.data() + start, end - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    int64_t value = -1;
    auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (item.empty() || ec != std::errc() || ptr != item.data() + item.size() || value < 0)
      return Error{"--tokens: '" + std::string(item) + "' is not a token id (expected comma-separated non-negative integers)"};
    if (vocab_size > 0 && value >= vocab_size)
      return Error{"--tokens: id " + std::to_string(value) + " is out of range for a vocabulary of " +
                   std::to_string(vocab_size)};
    ids.push_back(static_cast<int32_t>(value));
    start = end + 1;
  }
  if (ids.empty()) return Error{"--tokens: no token ids given"};
  return ids;
}

int report(const Error& error) {
  std::fprintf(stderr, "dseek: %s\n", error.message.c_str());
  return 1;
}

}  // namespace dseek::cli
