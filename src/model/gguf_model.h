// A GGUF file as dseek's model loaders want it: the ModelConfig its metadata
// describes (deepseek2, llama, qwen2 as llama.cpp writes them) and its tensors
// under Hugging Face names (see gguf_names.h), so DeepseekModel and
// DenseModel load GGUF and safetensors checkpoints through the same code.
#pragma once

#include "formats/gguf.h"
#include "model/config.h"
#include "weights/weight_store.h"

namespace dseek {

// Reads the architecture's metadata into the fields of config.json and
// validates them with parse_model_config; errors name the GGUF key.
Result<ModelConfig> model_config_from_gguf(const GgufFile& file);

// Tensor views under HF names: stacked experts are sliced into one view per
// expert; rope_freqs.weight goes into the config (model_config_from_gguf).
Result<WeightStore> weights_from_gguf(const GgufFile& file, const ModelConfig& config);

}  // namespace dseek
