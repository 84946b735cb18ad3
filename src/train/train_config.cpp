#include "train/train_config.h"

#include <cmath>
#include <filesystem>

#include "util/mapped_file.h"

namespace dseek::train {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string resolve(const std::string& base_dir, const std::string& path) {
  if (path.empty() || fs::path(path).is_absolute() || base_dir.empty()) return path;
  return (fs::path(base_dir) / path).lexically_normal().string();
}

// Typed optional fields; the first problem is kept, naming the field.
struct Fields {
  const json& j;
  std::string error;

  void fail(const std::string& key, const std::string& what) {
    if (error.empty()) error = key + ": " + what;
  }
  void integer(const char* key, int64_t& out, int64_t lo, int64_t hi) {
    if (!j.contains(key)) return;
    const json& v = j[key];
    if (!v.is_number_integer()) return fail(key, "expected an integer, got " + v.dump());
    const int64_t x = v.get<int64_t>();
    if (x < lo || x > hi) return fail(key, std::to_string(x) + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    out = x;
  }
  void number(const char* key, double& out, double lo, double hi) {
    if (!j.contains(key)) return;
    const json& v = j[key];
    if (!v.is_number() || !std::isfinite(v.get<double>())) return fail(key, "expected a number, got " + v.dump());
    const double x = v.get<double>();
    if (x < lo || x > hi) return fail(key, v.dump() + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    out = x;
  }
  void string(const char* key, std::string& out) {
    if (!j.contains(key)) return;
    if (!j[key].is_string()) return fail(key, "expected a string, got " + j[key].dump());
    out = j[key].get<std::string>();
  }
  void strings(const char* key, std::vector<std::string>& out) {
    if (!j.contains(key)) return;
    const json& v = j[key];
    if (v.is_string()) {
      out = {v.get<std::string>()};
      return;
    }
    if (!v.is_array()) return fail(key, "expected a file name or a list of them");
    out.clear();
    for (const json& s : v) {
      if (!s.is_string()) return fail(key, "expected file names, got " + s.dump());
      out.push_back(s.get<std::string>());
    }
  }
};

}  // namespace

Result<PretrainConfig> parse_pretrain_config(const std::string& text, const std::string& source) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    return Error{source + ": not valid JSON: " + e.what()};
  }
  if (!j.is_object()) return Error{source + ": expected a JSON object"};
  static const char* known[] = {"model", "tokenizer", "train", "validation", "out", "init_from", "seq_len",
                                "batch_size", "grad_accum", "steps", "lr", "min_lr", "warmup", "weight_decay",
                                "beta1", "beta2", "eps", "grad_clip", "seed", "init_std", "mtp_lambda",
                                "balance_alpha", "bias_update_speed", "log_every", "eval_every", "eval_batches",
                                "checkpoint_every", "threads", "comment"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool ok = false;
    for (const char* k : known) ok = ok || it.key() == k;
    if (!ok) return Error{source + ": unknown field '" + it.key() + "' (a typo?)"};
  }
  PretrainConfig c;
  c.source = source;
  const std::string dir = fs::path(source).parent_path().string();
  if (!j.contains("model")) return Error{source + ": model: required (a config.json object or a path to one)"};
  if (j["model"].is_string()) {
    const std::string path = resolve(dir, j["model"].get<std::string>());
    auto model_text = read_text_file(path);
    if (!model_text) return model_text.error().within(source + ": model");
    try {
      c.model_json = json::parse(model_text.value());
    } catch (const json::exception& e) {
      return Error{path + ": not valid JSON: " + e.what()};
    }
  } else if (j["model"].is_object()) {
    c.model_json = j["model"];
  } else {
    return Error{source + ": model: expected a config.json object or a path to one"};
  }
  auto model = parse_model_config(c.model_json.dump(), source + ": model");
  if (!model) return model.error();
  c.model = model.value();

  Fields f{j, ""};
  f.string("tokenizer", c.tokenizer);
  f.strings("train", c.train_files);
  f.strings("validation", c.validation_files);
  f.string("out", c.out);
  f.string("init_from", c.init_from);
  f.integer("seq_len", c.seq_len, 2, 1 << 20);
  f.integer("batch_size", c.batch_size, 1, 1 << 16);
  f.integer("grad_accum", c.grad_accum, 1, 1 << 16);
  f.integer("steps", c.steps, 1, int64_t{1} << 40);
  f.number("lr", c.lr, 0.0, 10.0);
  f.number("min_lr", c.min_lr, 0.0, 10.0);
  f.integer("warmup", c.warmup, 0, int64_t{1} << 40);
  f.number("weight_decay", c.weight_decay, 0.0, 10.0);
  f.number("beta1", c.beta1, 0.0, 0.999999);
  f.number("beta2", c.beta2, 0.0, 0.999999999);
  f.number("eps", c.eps, 1e-30, 1.0);
  f.number("grad_clip", c.grad_clip, 0.0, 1e9);
  int64_t seed = static_cast<int64_t>(c.seed);
  f.integer("seed", seed, 0, INT64_MAX);
  c.seed = static_cast<uint64_t>(seed);
  f.number("init_std", c.init_std, 0.0, 10.0);
  f.number("mtp_lambda", c.mtp_lambda, 0.0, 100.0);
  f.number("balance_alpha", c.balance_alpha, 0.0, 100.0);
  f.number("bias_update_speed", c.bias_update_speed, 0.0, 1.0);
  f.integer("log_every", c.log_every, 1, int64_t{1} << 40);
  f.integer("eval_every", c.eval_every, 0, int64_t{1} << 40);
  f.integer("eval_batches", c.eval_batches, 1, 1 << 20);
  f.integer("checkpoint_every", c.checkpoint_every, 0, int64_t{1} << 40);
  int64_t threads = 0;
  f.integer("threads", threads, 0, 1024);
  c.threads = static_cast<int>(threads);
  if (!f.error.empty()) return Error{source + ": " + f.error};
  c.tokenizer = resolve(dir, c.tokenizer);
  c.out = resolve(dir, c.out);
  c.init_from = resolve(dir, c.init_from);
  for (auto& p : c.train_files) p = resolve(dir, p);
  for (auto& p : c.validation_files) p = resolve(dir, p);
  return c;
}

Result<PretrainConfig> load_pretrain_config(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return text.error();
  return parse_pretrain_config(text.value(), path);
}

Status validate_pretrain_config(const PretrainConfig& c) {
  auto fail = [&](const std::string& what) { return Error{c.source + ": " + what}; };
  const ModelConfig& m = c.model;
  if (c.train_files.empty()) return fail("train: no training data given");
  if (c.out.empty()) return fail("out: no output folder given");
  if (c.seq_len > m.max_position_embeddings)
    return fail("seq_len " + std::to_string(c.seq_len) + " exceeds the model's max_position_embeddings " +
                std::to_string(m.max_position_embeddings));
  if (c.min_lr > c.lr) return fail("min_lr is above lr");
  if (c.warmup >= c.steps && c.steps > 1) return fail("warmup must be shorter than steps");
  if (m.fp8.enabled) return fail("model: fp8 quantization_config: training keeps f32 weights; remove it");
  if (m.uses_mla()) {
    // Shapes the config parser accepts but the architecture cannot use.
    if (m.mla.qk_rope_head_dim % 2 != 0) return fail("model: qk_rope_head_dim must be even");
    if (m.moe.n_routed_experts > 0 && m.moe.first_k_dense_replace > m.num_hidden_layers)
      return fail("model: first_k_dense_replace exceeds num_hidden_layers");
  } else if (m.num_attention_heads * m.head_dim <= 0) {
    return fail("model: no attention heads");
  }
  if (m.num_nextn_predict_layers > 1)
    return fail("model: num_nextn_predict_layers " + std::to_string(m.num_nextn_predict_layers) +
                " (training supports 0 or 1)");
  if (m.num_nextn_predict_layers == 1 && !m.uses_mla())
    return fail("model: num_nextn_predict_layers is only defined for deepseek models");
  return ok_status();
}

}  // namespace dseek::train
