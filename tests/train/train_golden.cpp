#include "train/train_golden.h"

#include <gtest/gtest.h>

#include "test_data.h"
#include "test_files.h"
#include "train/checkpoint.h"

namespace dseek::testing {

TrainGolden load_train_golden(const std::string& name) {
  TrainGolden g;
  g.dir = repo_path("tests/golden/train/" + name);
  g.golden = nlohmann::json::parse(read_file(g.dir + "/golden.json"));
  EXPECT_EQ(g.golden.at("format"), "dseek-train-golden");
  EXPECT_EQ(g.golden.at("version"), 1);
  const std::string config_text = read_file(g.dir + "/config.json");
  g.config_json = nlohmann::json::parse(config_text);
  auto config = parse_model_config(config_text, g.dir + "/config.json");
  if (!config) {
    ADD_FAILURE() << config.error().message;
    return g;
  }
  train::LossWeights w;
  w.mtp_lambda = g.golden.at("loss_weights").at("mtp_lambda").get<float>();
  w.balance_alpha = g.golden.at("loss_weights").at("balance_alpha").get<float>();
  auto model = train::TrainModel::create(config.value(), w);
  if (!model) {
    ADD_FAILURE() << model.error().message;
    return g;
  }
  if (auto s = train::load_weights(model.value()->params(), g.dir + "/init.safetensors"); !s) {
    ADD_FAILURE() << s.error().message;
    return g;
  }
  g.model = std::move(model.value());
  return g;
}

std::vector<int32_t> flatten(const nlohmann::json& batch) {
  std::vector<int32_t> out;
  for (const auto& seq : batch)
    for (const auto& id : seq) out.push_back(id.get<int32_t>());
  return out;
}

}  // namespace dseek::testing
