// DeepSeek-V2 / V2-Lite / V2.5 / V3 / R1: multi-head latent attention and
// DeepSeekMoE (shared + routed experts), as published in Hugging Face layout.
#pragma once

#include <memory>

#include "model/model.h"
#include "weights/weight_store.h"

namespace dseek {

Result<std::unique_ptr<Model>> load_deepseek(ModelConfig config, WeightStore weights, const LoadOptions& options);

}  // namespace dseek
