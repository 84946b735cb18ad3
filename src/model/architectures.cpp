#include "model/architectures.h"

#include <cstdio>
#include <filesystem>

#include "formats/gguf.h"
#include "formats/hf_folder.h"
#include "model/deepseek.h"
#include "model/dense.h"
#include "model/gguf_model.h"

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

bool is_gguf_path(const std::string& path) {
  return std::filesystem::is_regular_file(path) && looks_like_gguf(path);
}

Result<std::unique_ptr<Model>> build(ModelConfig config, WeightStore weights, const LoadOptions& options,
                                     const std::string& path) {
  for (const Architecture& arch : kArchitectures) {
    if (arch.family != config.family) continue;
    return arch.load(std::move(config), std::move(weights), options);
  }
  return Error{path + ": no architecture for model_type " + config.model_type};
}

}  // namespace

Result<ModelConfig> load_model_config(const std::string& path) {
  if (is_gguf_path(path)) {
    auto file = open_gguf(path);
    if (!file) return file.error();
    return model_config_from_gguf(file.value());
  }
  const std::string config_path = (std::filesystem::path(path) / "config.json").string();
  if (!std::filesystem::is_directory(path))
    return Error{path + ": not a model folder or a GGUF file (" +
                 (std::filesystem::exists(path) ? "a file without the GGUF magic" : "no such file or directory") + ")"};
  auto text = read_text_file(config_path);
  if (!text) return text.error();
  return parse_model_config(text.value(), config_path);
}

Result<std::unique_ptr<Model>> load_model(const std::string& path, const LoadOptions& options) {
  DSEEK_CHECK(options.pool != nullptr);
  if (is_gguf_path(path)) {
    auto file = open_gguf(path);
    if (!file) return file.error();
    auto config = model_config_from_gguf(file.value());
    if (!config) return config.error();
    auto weights = weights_from_gguf(file.value(), config.value());
    if (!weights) return weights.error();
    return build(std::move(config.value()), std::move(weights.value()), options, path);
  }
  auto config = load_model_config(path);
  if (!config) return config.error();
  auto checkpoint = open_hf_folder(path, options.show_progress);
  if (!checkpoint) return checkpoint.error();
  return build(std::move(config.value()), std::move(checkpoint->weights), options, path);
}

}  // namespace dseek
