#include "train/checkpoint.h"

#include <filesystem>
#include <map>
#include <optional>

#include "formats/hf_folder.h"
#include "formats/safetensors.h"
#include "formats/safetensors_writer.h"
#include "kernels/reference/row_decode.h"
#include "util/mapped_file.h"

namespace dseek::train {

namespace fs = std::filesystem;

namespace {

Status make_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error{dir + ": cannot create the folder: " + ec.message()};
  return ok_status();
}

Status write_json(const std::string& path, const nlohmann::json& j) {
  return write_file_atomically(path, j.dump(2) + "\n");
}

// Copies a tensor of any float dtype into f32.
Status decode_into(const Tensor& t, const std::string& where, std::vector<float>& out) {
  if (!dtype_info(t.dtype).computable || t.dtype == DType::F8_E4M3)
    return Error{where + ": tensor " + t.name + " has dtype " + std::string(dtype_info(t.dtype).name) +
                 ", expected F32, BF16 or F16"};
  Tensor rows = t;
  if (rows.rank == 1) {
    rows.rank = 2;
    rows.shape = {1, t.shape[0], 0, 0};
  }
  const int64_t cols = rows.cols();
  for (int64_t r = 0; r < rows.rows(); ++r) kernels::decode_row_reference(rows, r, 0, cols, out.data() + r * cols);
  return ok_status();
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

bool shape_matches(const Tensor& t, const std::vector<int64_t>& shape) {
  if (t.rank != static_cast<int>(shape.size())) return false;
  for (size_t i = 0; i < shape.size(); ++i)
    if (t.shape[i] != shape[i]) return false;
  return true;
}

}  // namespace

Status save_model(const std::string& dir, const TrainModel& model, const nlohmann::json& config_json,
                  const std::string& tokenizer_dir, DType dtype) {
  DSEEK_TRY(make_dir(dir));
  std::vector<TensorToWrite> tensors;
  for (const Param* p : model.params().all()) {
    // The routing bias steers choices by small margins: keep it in f32 (as DeepSeek-V3 ships it).
    const DType type = p->trainable ? dtype : DType::F32;
    tensors.push_back({p->name, p->shape, p->data(), type});
  }
  const ModelConfig& c = model.config();
  if (model.has_mtp()) {
    const std::string prefix = "model.layers." + std::to_string(c.num_hidden_layers);
    const Param* embed = model.params().find("model.embed_tokens.weight");
    const Param* head = model.params().find(c.tie_word_embeddings ? "model.embed_tokens.weight" : "lm_head.weight");
    tensors.push_back({prefix + ".embed_tokens.weight", embed->shape, embed->data(), dtype});
    tensors.push_back({prefix + ".shared_head.head.weight", head->shape, head->data(), dtype});
  }
  DSEEK_TRY(write_safetensors(dir + "/model.safetensors", tensors));
  nlohmann::json config = config_json;
  config["torch_dtype"] = dtype == DType::F32 ? "float32" : dtype == DType::BF16 ? "bfloat16" : "float16";
  DSEEK_TRY(write_json(dir + "/config.json", config));
  if (!tokenizer_dir.empty()) {
    for (const char* name : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"}) {
      const fs::path from = fs::path(tokenizer_dir) / name;
      if (!fs::exists(from)) {
        if (std::string(name) == "special_tokens_map.json") continue;
        return Error{from.string() + ": not found (the tokenizer folder must hold tokenizer.json and tokenizer_config.json)"};
      }
      auto text = read_text_file(from.string());
      if (!text) return text.error();
      DSEEK_TRY(write_file_atomically(dir + "/" + name, text.value()));
    }
  }
  return ok_status();
}

Status load_weights(ParamStore& params, const std::string& path) {
  std::map<std::string, Tensor> tensors;
  std::string where = path;
  // Both keep the mappings alive until the copy below is done.
  std::optional<SafetensorsFile> file;
  std::optional<HfCheckpoint> folder;
  if (fs::is_directory(path)) {
    auto ckpt = open_hf_folder(path, false);
    if (!ckpt) return ckpt.error();
    folder = std::move(ckpt.value());
    tensors = folder->weights.all();
  } else {
    auto f = open_safetensors(path);
    if (!f) return f.error();
    file = std::move(f.value());
    for (const Tensor& t : file->tensors) tensors[t.name] = t;
  }
  for (Param* p : params.all()) {
    auto it = tensors.find(p->name);
    if (it == tensors.end()) return Error{where + ": tensor " + p->name + " is missing"};
    if (!shape_matches(it->second, p->shape))
      return Error{where + ": tensor " + p->name + " has shape " + it->second.shape_string() + ", the model needs " +
                   shape_text(p->shape) + " (a checkpoint of another shape)"};
    DSEEK_TRY(decode_into(it->second, where, p->value));
  }
  return ok_status();
}

Status save_optimizer(const std::string& dir, AdamW& optimizer, const nlohmann::json& state) {
  DSEEK_TRY(make_dir(dir));
  std::vector<TensorToWrite> tensors;
  for (const auto& m : optimizer.moments()) {
    tensors.push_back({"m." + m.param->name, m.param->shape, m.m->data(), DType::F32});
    tensors.push_back({"v." + m.param->name, m.param->shape, m.v->data(), DType::F32});
  }
  DSEEK_TRY(write_safetensors(dir + "/optimizer.safetensors", tensors));
  nlohmann::json s = state;
  s["optimizer_steps"] = optimizer.steps_taken();
  return write_json(dir + "/trainer_state.json", s);
}

Result<nlohmann::json> load_optimizer(const std::string& dir, AdamW& optimizer) {
  const std::string state_path = dir + "/trainer_state.json";
  auto text = read_text_file(state_path);
  if (!text) return text.error();
  nlohmann::json state;
  try {
    state = nlohmann::json::parse(text.value());
  } catch (const nlohmann::json::exception& e) {
    return Error{state_path + ": not valid JSON: " + e.what()};
  }
  if (!state.is_object() || !state.contains("optimizer_steps") || !state["optimizer_steps"].is_number_integer())
    return Error{state_path + ": missing integer 'optimizer_steps'"};
  const std::string path = dir + "/optimizer.safetensors";
  auto file = open_safetensors(path);
  if (!file) return file.error();
  std::map<std::string, Tensor> tensors;
  for (const Tensor& t : file->tensors) tensors[t.name] = t;
  for (const auto& m : optimizer.moments()) {
    for (auto [prefix, dst] : {std::pair{"m.", m.m}, std::pair{"v.", m.v}}) {
      auto it = tensors.find(prefix + m.param->name);
      if (it == tensors.end()) return Error{path + ": tensor " + prefix + m.param->name + " is missing"};
      if (!shape_matches(it->second, m.param->shape) || it->second.dtype != DType::F32)
        return Error{path + ": tensor " + it->first + " does not match the model (a checkpoint of another shape)"};
      DSEEK_TRY(decode_into(it->second, path, *dst));
    }
  }
  optimizer.set_steps_taken(state["optimizer_steps"].get<int64_t>());
  return state;
}

}  // namespace dseek::train
