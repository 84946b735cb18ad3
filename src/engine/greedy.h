// Greedy decoding: prefill the prompt in one forward pass, then feed back the
// argmax one token at a time. (Sampling and stop conditions come with the
// text pipeline.)
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "model/model.h"

namespace dseek {

// Index of the largest value; ties go to the lowest index.
int32_t argmax(const float* values, int64_t n);

// Generates n_new tokens after `prompt` (which must be non-empty) into a fresh
// or partly filled cache. on_token, if set, sees each id as it is chosen.
Result<std::vector<int32_t>> generate_greedy(Model& model, KvCache& cache, std::span<const int32_t> prompt,
                                             int64_t n_new, const std::function<void(int32_t)>& on_token = {});

}  // namespace dseek
