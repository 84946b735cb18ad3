// The table of supported architectures, and the one entry point that turns a
// model path into a runnable Model. Adding an architecture is a new file plus
// a row in architectures.cpp (see docs/adding-an-architecture.md).
#pragma once

#include <memory>
#include <string>

#include "model/model.h"

namespace dseek {

// MODEL is a Hugging Face folder (config.json + safetensors) or a GGUF file
// (deepseek2, llama, qwen2 as llama.cpp writes them).
Result<std::unique_ptr<Model>> load_model(const std::string& path, const LoadOptions& options);

// Reads and validates config.json of a model folder, or the metadata of a
// GGUF file, without touching weights.
Result<ModelConfig> load_model_config(const std::string& path);

}  // namespace dseek
