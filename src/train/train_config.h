// What `dseek train pretrain --config FILE` reads: the model (a Hugging Face
// config.json object, or a path to one), the data, and the optimisation
// settings. Everything is validated before any training starts; messages
// name the file and the field.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/config.h"
#include "util/result.h"

namespace dseek::train {

struct PretrainConfig {
  std::string source;            // the config file, for messages
  nlohmann::json model_json;     // written as the checkpoint's config.json
  ModelConfig model;

  std::string tokenizer;               // folder with tokenizer.json + tokenizer_config.json
  std::vector<std::string> train_files;  // .txt (one document), .jsonl ({"text": ...} per line) or .tokens
  std::vector<std::string> validation_files;
  std::string out;                     // run folder: checkpoint/, log.jsonl
  std::string init_from;               // optional: start from these weights (a model folder or .safetensors)

  int64_t seq_len = 128;
  int64_t batch_size = 8;   // sequences per micro-batch
  int64_t grad_accum = 1;   // micro-batches per step
  int64_t steps = 1000;
  double lr = 3e-3, min_lr = 3e-4;
  int64_t warmup = 100;
  double weight_decay = 0.1, beta1 = 0.9, beta2 = 0.95, eps = 1e-8;
  double grad_clip = 1.0;
  uint64_t seed = 1234;
  double init_std = 0.02;
  double mtp_lambda = 0.3;
  double balance_alpha = 0.0001;
  double bias_update_speed = 0.001;  // gamma; 0 turns the auxiliary-loss-free rule off
  int64_t log_every = 10;
  int64_t eval_every = 100;
  int64_t eval_batches = 4;
  int64_t checkpoint_every = 500;
  int threads = 0;  // 0: physical cores
};

// Parses the JSON text of a training config; relative paths are resolved
// against the config file's folder.
Result<PretrainConfig> parse_pretrain_config(const std::string& json_text, const std::string& source);
Result<PretrainConfig> load_pretrain_config(const std::string& path);

// Cross-field checks on a config after command-line overrides.
Status validate_pretrain_config(const PretrainConfig& c);

}  // namespace dseek::train
