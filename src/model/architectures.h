// The table of supported architectures, and the one entry point that turns a
// model path into a runnable Model. Adding an architecture is a new file plus
// a row in architectures.cpp (see docs/adding-an-architecture.md).
#pragma once

#include <memory>
#include <string>

#include "model/model.h"

namespace dseek {

// MODEL is a Hugging Face folder (config.json + safetensors).
Result<std::unique_ptr<Model>> load_model(const std::string& path, const LoadOptions& options);

// Reads and validates config.json of a model folder without mapping weights.
Result<ModelConfig> load_model_config(const std::string& path);

}  // namespace dseek
