// dseek train pretrain --config FILE: pretraining (src/train/trainer.h).
#include <malloc.h>

#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"
#include "tokenizer/tokenizer.h"
#include "train/tokenizer_trainer.h"
#include "train/trainer.h"

namespace dseek::cli {

namespace {

// Text corpora are encoded with the run's tokenizer: documents framed by its
// BOS and EOS, special tokens written in the text matched as tokens.
Result<train::TextEncoding> text_encoding(const std::string& folder) {
  train::TextEncoding enc;
  if (folder.empty()) return enc;
  auto tok = Tokenizer::from_folder(folder);
  if (!tok) return tok.error();
  auto shared = std::make_shared<Tokenizer>(std::move(tok.value()));
  enc.bos_id = shared->bos_id();
  enc.eos_id = shared->eos_id();
  enc.vocab_size = shared->vocab_size();
  enc.encode = [shared](std::string_view text) -> Result<std::vector<int32_t>> {
    EncodeOptions o;
    o.add_special_tokens = false;  // BOS/EOS are added per document by the corpus loader
    return shared->encode(text, o);
  };
  return enc;
}

void register_tokenizer(CLI::App& train, int& exit_code) {
  auto* cmd = train.add_subcommand("tokenizer", "train a byte-level BPE tokenizer (DeepSeek-V3 format)");
  struct Options {
    std::vector<std::string> inputs;
    int64_t vocab = 8192;
    std::string out;
    int64_t min_frequency = 2;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("--input", o->inputs, "text files: .txt (one document) or .jsonl ({\"text\": ...} per line)")
      ->required();
  cmd->add_option("--vocab", o->vocab, "vocabulary size, reserved tokens included")->check(CLI::Range(int64_t{300}, int64_t{1} << 22));
  cmd->add_option("--out", o->out, "folder for tokenizer.json, tokenizer_config.json, special_tokens_map.json")->required();
  cmd->add_option("--min-frequency", o->min_frequency, "merge only pairs seen this often")->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  cmd->callback([o, &exit_code] {
    train::TokenizerTrainOptions options;
    options.inputs = o->inputs;
    options.vocab_size = o->vocab;
    options.min_frequency = o->min_frequency;
    auto r = train::train_tokenizer(options, o->out);
    if (!r) {
      exit_code = report(r.error());
      return;
    }
    std::fprintf(stderr, "dseek train tokenizer: %lld tokens (%lld merges) from %lld distinct pieces of %.1f MB of text in %s\n",
                 static_cast<long long>(r->vocab_size), static_cast<long long>(r->merges), static_cast<long long>(r->words),
                 r->bytes / 1e6, o->out.c_str());
  });
}

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
    auto encoding = text_encoding(config->tokenizer);
    if (!encoding) {
      exit_code = report(encoding.error());
      return;
    }
    train::RunOptions options;
    options.resume = o->resume;
    options.stop_after = o->stop_after;
    options.progress = o->quiet ? nullptr : stderr;
    auto run = train::run_pretraining(config.value(), encoding.value(), options);
    if (!run) exit_code = report(run.error());
  });
}

}  // namespace

void register_train(CLI::App& app, int& exit_code) {
  auto* train = app.add_subcommand("train", "train models: pretrain, tokenizer");
  train->require_subcommand(1);
  register_pretrain(*train, exit_code);
  register_tokenizer(*train, exit_code);
}

}  // namespace dseek::cli
