#include "cli/common.h"

#include <charconv>
#include <cstdio>
#include <unistd.h>

#include "model/architectures.h"

namespace dseek::cli {

void add_model_options(CLI::App& cmd, ModelOptions& options) {
  cmd.add_option("MODEL", options.model_path, "Hugging Face model folder or .gguf file")->required();
  cmd.add_option("--threads,-t", options.threads, "threads (default: physical cores)")->check(CLI::Range(0, 1024));
  cmd.add_option("--mla", options.mla, "MLA attention path: absorbed (default) or naive")
      ->check(CLI::IsMember({"absorbed", "naive"}));
}

Result<LoadedModel> load(const ModelOptions& options) {
  LoadedModel loaded;
  loaded.pool = std::make_unique<ThreadPool>(options.threads > 0 ? options.threads : physical_core_count());
  LoadOptions load_options;
  load_options.pool = loaded.pool.get();
  load_options.mla_mode = options.mla == "naive" ? MlaMode::kNaive : MlaMode::kAbsorbed;
  load_options.show_progress = isatty(STDERR_FILENO);
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
