// dseek logits MODEL --tokens IDS: raw next-token logits, the interface that
// tests and scripts compare against references.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <numeric>

#include "cli/commands.h"
#include "cli/common.h"

namespace dseek::cli {

namespace {

void print_top5(const float* row, int64_t vocab, int64_t position) {
  std::vector<int32_t> order(static_cast<size_t>(vocab));
  std::iota(order.begin(), order.end(), 0);
  const int64_t k = std::min<int64_t>(5, vocab);
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [&](int32_t a, int32_t b) { return row[a] != row[b] ? row[a] > row[b] : a < b; });
  std::printf("position %lld:", static_cast<long long>(position));
  for (int64_t i = 0; i < k; ++i) std::printf(" %d (%.4f)", order[i], row[order[i]]);
  std::printf("\n");
}

}  // namespace

void register_logits(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("logits", "next-token logits for a list of token ids");
  struct Options {
    ModelOptions model;
    std::string tokens;
    bool all_positions = false;
    std::string out;
  };
  auto o = std::make_shared<Options>();
  // Raw logits are what references are compared with: an exact (f32) KV
  // cache unless asked otherwise.
  o->model.kv_type = "f32";
  add_model_options(*cmd, o->model);
  cmd->add_option("--tokens", o->tokens, "comma-separated token ids")->required();
  cmd->add_flag("--all-positions", o->all_positions, "logits after every token, not only the last");
  cmd->add_option("--out", o->out, "write raw little-endian float32, vocab_size values per position");
  cmd->callback([o, &exit_code] {
    auto loaded = load(o->model);
    if (!loaded) {
      exit_code = report(loaded.error());
      return;
    }
    Model& model = *loaded->model;
    const int64_t vocab = model.config().vocab_size;
    auto tokens = parse_token_list(o->tokens, vocab);
    if (!tokens) {
      exit_code = report(tokens.error());
      return;
    }
    const int64_t n = static_cast<int64_t>(tokens->size());
    const int64_t rows = o->all_positions ? n : 1;
    std::vector<float> logits(static_cast<size_t>(rows * vocab));
    auto cache = model.new_cache(n);
    SequenceInput input{cache.get(), tokens.value(), o->all_positions, logits.data()};
    if (auto s = model.forward(std::span<SequenceInput>(&input, 1)); !s) {
      exit_code = report(s.error());
      return;
    }
    if (!o->out.empty()) {
      FILE* f = std::fopen(o->out.c_str(), "wb");
      if (!f || std::fwrite(logits.data(), sizeof(float), logits.size(), f) != logits.size() || std::fclose(f) != 0) {
        exit_code = report(Error{o->out + ": cannot write: " + std::strerror(errno)});
        return;
      }
      return;
    }
    for (int64_t r = 0; r < rows; ++r) print_top5(logits.data() + r * vocab, vocab, o->all_positions ? r : n - 1);
  });
}

}  // namespace dseek::cli
