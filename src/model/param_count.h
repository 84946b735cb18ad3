// Parameter counts from the config alone (so they can be checked against the
// figures DeepSeek publishes, and shown before any weight is mapped).
#pragma once

#include <cstdint>

#include "model/config.h"

namespace dseek {

struct ParameterCount {
  int64_t total = 0;   // the main model: embeddings, layers, final norm, head
  // Used per token: total minus the routed experts not chosen and minus the
  // input embedding table (a row lookup, not arithmetic), which is how
  // DeepSeek counts "activated" parameters (V2-Lite 2.4B, V2 21B, V3 37B).
  int64_t active = 0;
  int64_t mtp = 0;     // multi-token-prediction modules, counted apart as DeepSeek does
};

// Larger models than this are refused as absurd configs (100 T parameters).
inline constexpr double kMaxParameters = 1e14;

struct ParameterCountF {
  double total = 0, active = 0, mtp = 0;
};
// Never overflows, whatever the config: what the config parser checks with.
ParameterCountF count_parameters_f(const ModelConfig& config);
ParameterCount count_parameters(const ModelConfig& config);

}  // namespace dseek
