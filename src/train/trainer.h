// The pretraining loop behind `dseek train pretrain`: data and model checked
// before the first step, then steps with a progress line (step, loss,
// tokens/s, expert load balance, ETA), validation, checkpoints in Hugging
// Face layout, and resumption that continues the exact same curve.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "train/dataset.h"
#include "train/train_config.h"
#include "util/result.h"

namespace dseek::train {

struct RunOptions {
  bool resume = false;          // continue from <out>/checkpoint
  int64_t stop_after = -1;      // >= 0: stop (with a checkpoint) once this many steps are done
  FILE* progress = stderr;      // null: quiet
};

// How text becomes ids: set by the caller (the CLI builds it from the
// tokenizer folder). Without an encoder only .tokens corpora can be used.
struct TextEncoding {
  Encoder encode;
  int32_t bos_id = -1, eos_id = -1;
  int64_t vocab_size = 0;  // the tokenizer's (must not exceed the model's)
};

struct StepRecord {
  int64_t step = 0;
  double loss = 0, main = 0, mtp = 0, balance = 0, lr = 0, grad_norm = 0;
  double imbalance = 1.0;  // mean over MoE layers of max/mean tokens per expert, this step
};

struct RunSummary {
  std::vector<StepRecord> steps;                        // the steps this call ran
  std::vector<std::pair<int64_t, double>> validation;   // (after step, loss)
  double tokens_per_second = 0.0;
  std::string checkpoint;                               // the folder last written
};

Result<RunSummary> run_pretraining(const PretrainConfig& config, const TextEncoding& encoding,
                                   const RunOptions& options);

}  // namespace dseek::train
