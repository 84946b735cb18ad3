#include "model/architectures.h"

#include <cstdio>
#include <filesystem>

#include "formats/hf_folder.h"
#include "model/deepseek.h"
#include "model/dense.h"

namespace dseek {

namespace {

using Loader = Result<std::unique_ptr<Model>> (*)(ModelConfig, WeightStore, const LoadOptions&);

struct Architecture {
  Family family;
  Loader load;
};

constexpr Architecture kArchitectures[] = {
    {Family::kDeepseekV2, load_deepseek},
    {Family::kDeepseekV3, load_deepseek},
    {Family::kLlama, load_dense},
    {Family::kQwen2, load_dense},
};

}  // namespace

Result<ModelConfig> load_model_config(const std::string& path) {
  const std::string config_path = (std::filesystem::path(path) / "config.json").string();
  if (!std::filesystem::is_directory(path)) return Error{path + ": not a model folder (no such directory)"};
  auto text = read_text_file(config_path);
  if (!text) return text.error();
  return parse_model_config(text.value(), config_path);
}

Result<std::unique_ptr<Model>> load_model(const std::string& path, const LoadOptions& options) {
  DSEEK_CHECK(options.pool != nullptr);
  auto config = load_model_config(path);
  if (!config) return config.error();
  auto checkpoint = open_hf_folder(path, options.show_progress);
  if (!checkpoint) return checkpoint.error();
  for (const Architecture& arch : kArchitectures) {
    if (arch.family != config->family) continue;
    auto model = arch.load(config.value(), std::move(checkpoint->weights), options);
    if (!model) return model.error();
    return model;
  }
  return Error{path + ": no architecture for model_type " + config->model_type};
}

}  // namespace dseek
