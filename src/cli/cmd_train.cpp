// dseek train pretrain --config FILE: pretraining (src/train/trainer.h).
#include <malloc.h>

#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"
#include "train/trainer.h"

namespace dseek::cli {

namespace {

void register_pretrain(CLI::App& train, int& exit_code) {
  auto* cmd = train.add_subcommand("pretrain", "pretrain a model from a corpus (deepseek_v3 MLA+MoE+MTP, or llama)");
  struct Options {
    std::string config;
    std::string out;
    int64_t steps = 0;
    int threads = -1;
    bool resume = false;
    int64_t stop_after = -1;
    bool quiet = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("--config", o->config, "training config (JSON; see docs/training.md)")->required();
  cmd->add_option("--out", o->out, "run folder (overrides the config's \"out\")");
  cmd->add_option("--steps", o->steps, "total steps (overrides the config)")->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  cmd->add_option("--threads,-t", o->threads, "threads (default: the config's, else physical cores)")
      ->check(CLI::Range(0, 1024));
  cmd->add_flag("--resume", o->resume, "continue from <out>/checkpoint");
  cmd->add_option("--stop-after", o->stop_after, "stop once this many steps are done (a checkpoint is written)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  cmd->add_flag("--quiet,-q", o->quiet, "no progress lines");
  cmd->callback([o, &exit_code] {
    auto config = train::load_pretrain_config(o->config);
    if (!config) {
      exit_code = report(config.error());
      return;
    }
    if (!o->out.empty()) config->out = o->out;
    if (o->steps > 0) config->steps = o->steps;
    if (o->threads >= 0) config->threads = o->threads;
    // Every step allocates and frees the same large activation buffers: keep
    // them in the heap instead of returning them to the system each time
    // (which costs a page fault per 4 KiB on the next step).
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    train::TextEncoding encoding;
    train::RunOptions options;
    options.resume = o->resume;
    options.stop_after = o->stop_after;
    options.progress = o->quiet ? nullptr : stderr;
    auto run = train::run_pretraining(config.value(), encoding, options);
    if (!run) exit_code = report(run.error());
  });
}

}  // namespace

void register_train(CLI::App& app, int& exit_code) {
  auto* train = app.add_subcommand("train", "train models: pretrain, tokenizer");
  train->require_subcommand(1);
  register_pretrain(*train, exit_code);
}

}  // namespace dseek::cli
