// A model folder as published on Hugging Face: config.json plus weights in
// model.safetensors, or sharded across files listed by
// model.safetensors.index.json.
#pragma once

#include <string>

#include "util/result.h"
#include "weights/weight_store.h"

namespace dseek {

struct HfCheckpoint {
  std::string folder;
  std::string config_json;  // text of config.json
  WeightStore weights;
};

// Maps every weight file (no tensor data is read) and checks the index.
Result<HfCheckpoint> open_hf_folder(const std::string& folder, bool show_progress);

}  // namespace dseek
