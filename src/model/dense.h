// Dense decoders with grouped-query attention: llama (DeepSeek LLM,
// DeepSeek-Coder, R1-Distill-Llama) and qwen2 (R1-Distill-Qwen).
#pragma once

#include <memory>

#include "model/model.h"
#include "weights/weight_store.h"

namespace dseek {

Result<std::unique_ptr<Model>> load_dense(ModelConfig config, WeightStore weights, const LoadOptions& options);

}  // namespace dseek
