// Checkpoints in Hugging Face layout, so that `dseek logits`, `dseek chat`
// and any HF-compatible tool load them:
//   config.json, model.safetensors, tokenizer.json, tokenizer_config.json
// plus, for resuming, what HF tools ignore:
//   trainer_state.json (step, settings, loss history) and
//   optimizer.safetensors (AdamW's first and second moments, "m." / "v." + name).
// The MTP module's copies of the embedding and head (model.layers.L.embed_tokens,
// .shared_head.head), which DeepSeek-V3 checkpoints carry, are written as copies
// of the shared tensors and ignored on load.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "train/optimizer.h"
#include "train/train_model.h"
#include "util/result.h"
#include "weights/dtype.h"

namespace dseek::train {

// The model's tensors as f32 (or bf16/f16) safetensors; `config_json` is
// written as config.json; tokenizer files are copied from tokenizer_dir when
// it is non-empty.
Status save_model(const std::string& dir, const TrainModel& model, const nlohmann::json& config_json,
                  const std::string& tokenizer_dir, DType dtype = DType::F32);

// Reads every trainable tensor and buffer of `params` by name from a
// safetensors file or a model folder (any stored float type). Missing
// tensors and shape mismatches are errors naming the tensor.
Status load_weights(ParamStore& params, const std::string& file_or_folder);

Status save_optimizer(const std::string& dir, AdamW& optimizer, const nlohmann::json& state);
// Restores the moments and returns trainer_state.json.
Result<nlohmann::json> load_optimizer(const std::string& dir, AdamW& optimizer);

}  // namespace dseek::train
