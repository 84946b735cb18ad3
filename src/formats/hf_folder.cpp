#include "formats/hf_folder.h"

#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "formats/safetensors.h"

namespace dseek {

namespace fs = std::filesystem;

namespace {

// Shard names must stay inside the folder: an index is input too.
bool is_plain_file_name(const std::string& name) {
  return !name.empty() && name.find('/') == std::string::npos && name != "." && name != "..";
}

// weight_map of model.safetensors.index.json: tensor name -> shard file.
Result<std::map<std::string, std::string>> read_index(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return text.error();
  nlohmann::json index;
  try {
    index = nlohmann::json::parse(text.value());
  } catch (const nlohmann::json::exception& ex) {
    return Error{path + ": not valid JSON: " + ex.what()};
  }
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
    return Error{path + ": missing object 'weight_map'"};
  std::map<std::string, std::string> map;
  for (auto it = index["weight_map"].begin(); it != index["weight_map"].end(); ++it) {
    if (!it->is_string() || !is_plain_file_name(it->get<std::string>()))
      return Error{path + ": weight_map['" + it.key() + "'] is not a file name in the folder"};
    map[it.key()] = it->get<std::string>();
  }
  if (map.empty()) return Error{path + ": weight_map is empty"};
  return map;
}

}  // namespace

Result<HfCheckpoint> open_hf_folder(const std::string& folder, bool show_progress) {
  HfCheckpoint ckpt;
  ckpt.folder = folder;
  if (!fs::is_directory(folder)) return Error{folder + ": not a model folder (no such directory)"};
  auto config = read_text_file((fs::path(folder) / "config.json").string());
  if (!config) return config.error();
  ckpt.config_json = std::move(config.value());
  ckpt.weights.set_description(folder);

  std::string index_path = (fs::path(folder) / "model.safetensors.index.json").string();
  std::map<std::string, std::string> weight_map;
  std::vector<std::string> shards;
  if (fs::exists(index_path)) {
    auto map = read_index(index_path);
    if (!map) return map.error();
    weight_map = std::move(map.value());
    std::set<std::string> unique;
    for (const auto& [tensor, file] : weight_map) unique.insert(file);
    shards.assign(unique.begin(), unique.end());
    for (const std::string& shard : shards)
      if (!fs::exists(fs::path(folder) / shard))
        return Error{index_path + ": lists " + shard + ", which does not exist"};
  } else if (fs::exists(fs::path(folder) / "model.safetensors")) {
    shards.push_back("model.safetensors");
  } else {
    return Error{folder + ": no model.safetensors or model.safetensors.index.json"};
  }

  for (size_t i = 0; i < shards.size(); ++i) {
    std::string path = (fs::path(folder) / shards[i]).string();
    if (show_progress)
      std::fprintf(stderr, "\rloading: mapping %s (%zu/%zu)   ", shards[i].c_str(), i + 1, shards.size());
    auto file = open_safetensors(path);
    if (!file) return file.error();
    ckpt.weights.add_mapping(file->mapping);
    for (auto& t : file->tensors) {
      if (!weight_map.empty()) {
        auto it = weight_map.find(t.name);
        if (it == weight_map.end() || it->second != shards[i])
          return Error{path + ": tensor '" + t.name + "' is not listed for this file in model.safetensors.index.json"};
      }
      DSEEK_TRY(ckpt.weights.add(std::move(t), path));
    }
  }
  if (show_progress) std::fprintf(stderr, "\n");
  for (const auto& [tensor, file] : weight_map)
    if (!ckpt.weights.contains(tensor))
      return Error{(fs::path(folder) / file).string() + ": index lists tensor '" + tensor + "' but the file does not hold it"};
  return ckpt;
}

}  // namespace dseek
