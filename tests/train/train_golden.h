// The trainer's golden files (tests/golden/train/NAME/, written by
// tools/reference/make_train_goldens.py) and a model loaded from them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "train/train_model.h"

namespace dseek::testing {

struct TrainGolden {
  std::string dir;
  nlohmann::json config_json;
  nlohmann::json golden;
  std::unique_ptr<train::TrainModel> model;  // with the initial weights
};

// Fails the test (model null) when anything is malformed.
TrainGolden load_train_golden(const std::string& name);

// [[ids...], ...] -> flat ids.
std::vector<int32_t> flatten(const nlohmann::json& batch);

}  // namespace dseek::testing
