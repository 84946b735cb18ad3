// GGUF metadata keys are llama.cpp's (LLM_KV_* in llama-arch.cpp, written by
// convert_hf_to_gguf.py); each maps to the config.json field it came from.
// Rather than validate the numbers twice, the mapping builds the equivalent
// config.json object and hands it to parse_model_config.
#include "model/gguf_model.h"

#include <cstring>

#include <nlohmann/json.hpp>

#include "model/gguf_names.h"

namespace dseek {

namespace {

using nlohmann::json;

// Reads typed metadata values; the first problem is kept, naming the key.
class MetaReader {
 public:
  MetaReader(const GgufHeader& h, std::string arch) : h_(h), arch_(std::move(arch)) {}

  const std::string& arch() const { return arch_; }
  std::string key(const std::string& suffix) const { return arch_ + "." + suffix; }
  bool has(const std::string& full_key) const { return h_.find(full_key) != nullptr; }

  std::optional<int64_t> integer(const std::string& full_key, bool required = false) {
    const GgufValue* v = h_.find(full_key);
    if (!v) {
      if (required) fail(full_key, "is required");
      return std::nullopt;
    }
    auto i = v->as_int();
    if (!i) fail(full_key, "expected an integer, found " + std::string(gguf_type_name(v->type)));
    return i;
  }
  std::optional<double> number(const std::string& full_key) {
    const GgufValue* v = h_.find(full_key);
    if (!v) return std::nullopt;
    auto d = v->as_number();
    if (!d) fail(full_key, "expected a number, found " + std::string(gguf_type_name(v->type)));
    return d;
  }
  std::optional<bool> boolean(const std::string& full_key) {
    const GgufValue* v = h_.find(full_key);
    if (!v) return std::nullopt;
    auto b = v->as_bool();
    if (!b) fail(full_key, "expected a bool, found " + std::string(gguf_type_name(v->type)));
    return b;
  }
  std::optional<std::string> string(const std::string& full_key) {
    const GgufValue* v = h_.find(full_key);
    if (!v) return std::nullopt;
    auto s = v->as_string();
    if (!s) {
      fail(full_key, "expected a string, found " + std::string(gguf_type_name(v->type)));
      return std::nullopt;
    }
    return std::string(*s);
  }

  // Copies an integer metadata value into the JSON field when present.
  void copy_int(json& j, const char* field, const std::string& suffix, bool required = false) {
    if (auto v = integer(key(suffix), required)) j[field] = *v;
  }
  void copy_number(json& j, const char* field, const std::string& suffix) {
    if (auto v = number(key(suffix))) j[field] = *v;
  }

  void fail(const std::string& k, const std::string& what) {
    if (error_.empty()) error_ = k + ": " + what;
  }
  const std::string& error() const { return error_; }

 private:
  const GgufHeader& h_;
  std::string arch_;
  std::string error_;
};

bool has_tensor(const GgufFile& file, std::string_view name) {
  for (const GgufTensorInfo& t : file.header.tensors)
    if (t.name == name) return true;
  return false;
}

const GgufTensorInfo* find_tensor(const GgufFile& file, std::string_view name) {
  for (const GgufTensorInfo& t : file.header.tensors)
    if (t.name == name) return &t;
  return nullptr;
}

// Fields every architecture shares.
void common_fields(MetaReader& r, const GgufFile& file, json& j) {
  r.copy_int(j, "num_hidden_layers", "block_count", true);
  r.copy_int(j, "hidden_size", "embedding_length", true);
  r.copy_int(j, "intermediate_size", "feed_forward_length", true);
  r.copy_int(j, "num_attention_heads", "attention.head_count", true);
  r.copy_int(j, "max_position_embeddings", "context_length");
  r.copy_number(j, "rms_norm_eps", "attention.layer_norm_rms_epsilon");
  r.copy_number(j, "rope_theta", "rope.freq_base");
  // vocab_size is optional in GGUF: the embedding's row count decides.
  if (auto v = r.integer(r.key("vocab_size"))) j["vocab_size"] = *v;
  else if (const GgufTensorInfo* e = find_tensor(file, "token_embd.weight"); e && e->n_dims == 2)
    j["vocab_size"] = e->ne[1];
  j["tie_word_embeddings"] = !has_tensor(file, "output.weight");
  if (auto bos = r.integer("tokenizer.ggml.bos_token_id")) j["bos_token_id"] = *bos;
  if (auto eos = r.integer("tokenizer.ggml.eos_token_id")) j["eos_token_id"] = *eos;
  j["hidden_act"] = "silu";

  auto type = r.string(r.key("rope.scaling.type"));
  if (!type || *type == "none") return;
  json rs;
  rs["type"] = *type;
  if (auto f = r.number(r.key("rope.scaling.factor"))) rs["factor"] = *f;
  if (auto o = r.integer(r.key("rope.scaling.original_context_length"))) rs["original_max_position_embeddings"] = *o;
  if (*type == "yarn") {
    if (auto b = r.number(r.key("rope.scaling.yarn_beta_fast"))) rs["beta_fast"] = *b;
    if (auto b = r.number(r.key("rope.scaling.yarn_beta_slow"))) rs["beta_slow"] = *b;
    // deepseek2 stores 0.1 * mscale_all_dim here, and llama.cpp takes
    // mscale == mscale_all_dim (true of every published DeepSeek config).
    if (auto m = r.number(r.key("rope.scaling.yarn_log_multiplier"))) {
      rs["mscale"] = *m / 0.1;
      rs["mscale_all_dim"] = *m / 0.1;
    }
  }
  j["rope_scaling"] = rs;
}

Status deepseek2_fields(MetaReader& r, const GgufFile& file, json& j) {
  const bool split = has_tensor(file, "blk.0.attn_k_b.weight");
  const bool combined = has_tensor(file, "blk.0.attn_kv_b.weight");
  // llama.cpp: 1 softmax (V2), 2 sigmoid (V3); V3 also carries exp_probs_b
  // (e_score_correction_bias). Without the key: V3 if the bias is there.
  bool has_bias = false;
  for (const GgufTensorInfo& t : file.header.tensors)
    has_bias = has_bias || std::string_view(t.name).find(".exp_probs_b.") != std::string_view::npos;
  const int64_t gating = r.integer(r.key("expert_gating_func")).value_or(has_bias ? 2 : 1);
  const bool v3 = gating == 2 || has_bias;
  j["model_type"] = v3 ? "deepseek_v3" : "deepseek_v2";
  if (auto q = r.integer(r.key("attention.q_lora_rank"))) j["q_lora_rank"] = *q;
  r.copy_int(j, "kv_lora_rank", "attention.kv_lora_rank", true);
  const auto rope = r.integer(r.key("rope.dimension_count"), true);
  if (rope) j["qk_rope_head_dim"] = *rope;
  // The split layout stores the MLA head sizes under *_mla (key_length is
  // then kv_lora + rope, the size of the cached "key"); the older combined
  // layout under key_length / value_length.
  const bool has_mla = r.has(r.key("attention.key_length_mla"));
  if (split && !has_mla)
    return Error{"attention.key_length_mla is required with the split attn_k_b/attn_v_b tensors"};
  const auto k = r.integer(r.key(has_mla ? "attention.key_length_mla" : "attention.key_length"), true);
  const auto v = r.integer(r.key(has_mla ? "attention.value_length_mla" : "attention.value_length"), true);
  if (k && rope) j["qk_nope_head_dim"] = *k - *rope;
  if (v) j["v_head_dim"] = *v;
  if (!split && !combined) return Error{"layer 0 has neither attn_kv_b nor attn_k_b/attn_v_b"};

  if (auto n = r.integer(r.key("expert_count")); n && *n > 0) {
    j["n_routed_experts"] = *n;
    r.copy_int(j, "n_shared_experts", "expert_shared_count");
    r.copy_int(j, "num_experts_per_tok", "expert_used_count", true);
    r.copy_int(j, "moe_intermediate_size", "expert_feed_forward_length", true);
    r.copy_int(j, "first_k_dense_replace", "leading_dense_block_count");
    r.copy_int(j, "moe_layer_freq", "moe_layer_freq");  // dseek's own key; absent in llama.cpp files (1)
    r.copy_int(j, "n_group", "expert_group_count");
    r.copy_int(j, "topk_group", "expert_group_used_count");
    if (auto norm = r.boolean(r.key("expert_weights_norm"))) j["norm_topk_prob"] = *norm;
    r.copy_number(j, "routed_scaling_factor", "expert_weights_scale");
    if (gating != 1 && gating != 2)
      return Error{r.key("expert_gating_func") + ": " + std::to_string(gating) + " is not supported (1 softmax, 2 sigmoid)"};
    j["scoring_func"] = gating == 2 ? "sigmoid" : "softmax";
    const int64_t groups = j.value("n_group", int64_t{1});
    j["topk_method"] = v3 ? "noaux_tc" : groups > 1 ? "group_limited_greedy" : "greedy";
  }
  return ok_status();
}

Status dense_fields(MetaReader& r, const GgufFile& file, json& j, ModelConfig& extra) {
  j["model_type"] = r.arch();
  r.copy_int(j, "num_key_value_heads", "attention.head_count_kv");
  const auto heads = r.integer(r.key("attention.head_count"));
  const auto hidden = r.integer(r.key("embedding_length"));
  if (auto k = r.integer(r.key("attention.key_length"))) j["head_dim"] = *k;
  const int64_t head_dim = j.contains("head_dim") ? j["head_dim"].get<int64_t>()
                           : heads && hidden && *heads > 0 ? *hidden / *heads : 0;
  if (auto v = r.integer(r.key("attention.value_length")); v && *v != head_dim)
    return Error{r.key("attention.value_length") + ": " + std::to_string(*v) + " differs from the key length " +
                 std::to_string(head_dim) + " (not supported)"};
  if (auto rope = r.integer(r.key("rope.dimension_count")); rope && *rope != head_dim)
    return Error{r.key("rope.dimension_count") + ": partial rotary embeddings (" + std::to_string(*rope) + " of " +
                 std::to_string(head_dim) + ") are not supported"};
  if (r.arch() == "llama") {
    j["attention_bias"] = has_tensor(file, "blk.0.attn_q.bias");
    extra.rope_adjacent_pairs = true;  // convert_hf_to_gguf permuted q/k for llama.cpp's RoPE
  }
  // llama3 scaling arrives as per-pair divisors of the base frequencies.
  if (const GgufTensorInfo* f = find_tensor(file, "rope_freqs.weight")) {
    const GgmlTypeInfo* type = ggml_type_info(f->ggml_type);
    if (f->n_dims != 1 || f->ne[0] != static_cast<uint64_t>(head_dim / 2) || !type || type->dtype != DType::F32)
      return Error{"tensor rope_freqs.weight must be F32 with head_dim / 2 = " + std::to_string(head_dim / 2) +
                   " values"};
    for (uint64_t i = 0; i < f->ne[0]; ++i) {
      float v;
      std::memcpy(&v, file.mapping->data() + f->offset + 4 * i, 4);
      if (!(v > 0.0f && v < 1e6f)) return Error{"tensor rope_freqs.weight holds a divisor that is not a positive number"};
      extra.rope_scaling.freq_factors.push_back(v);
    }
  }
  return ok_status();
}

}  // namespace

Result<ModelConfig> model_config_from_gguf(const GgufFile& file) {
  const std::string& path = file.mapping->path();
  const GgufValue* arch_value = file.header.find("general.architecture");
  if (!arch_value || !arch_value->as_string())
    return Error{path + ": general.architecture is missing or not a string"};
  const std::string arch(*arch_value->as_string());
  if (arch != "deepseek2" && arch != "llama" && arch != "qwen2")
    return Error{path + ": architecture '" + arch + "' is not supported (supported: deepseek2, llama, qwen2)"};

  MetaReader r(file.header, arch);
  json j = json::object();
  ModelConfig extra;
  common_fields(r, file, j);
  Status s = arch == "deepseek2" ? deepseek2_fields(r, file, j) : dense_fields(r, file, j, extra);
  if (!r.error().empty()) return Error{path + ": " + r.error()};
  if (!s.ok()) return Error{path + ": " + s.error().message};

  auto config = parse_model_config(j.dump(), path + " (GGUF metadata as config.json)");
  if (!config) return config.error();
  config->rope_adjacent_pairs = extra.rope_adjacent_pairs;
  if (!extra.rope_scaling.freq_factors.empty()) {
    if (config->rope_scaling.type != RopeScalingType::kNone)
      return Error{path + ": rope_freqs.weight together with rope.scaling.type is not supported"};
    config->rope_scaling.freq_factors = std::move(extra.rope_scaling.freq_factors);
  }
  return config;
}

Result<WeightStore> weights_from_gguf(const GgufFile& file, const ModelConfig& config) {
  const std::string& path = file.mapping->path();
  auto tensors = file.tensors();
  if (!tensors) return tensors.error();
  WeightStore store;
  store.set_description(path);
  store.add_mapping(file.mapping);
  for (Tensor& t : tensors.value()) {
    if (t.name == "rope_freqs.weight") continue;  // read into the config
    std::string hf = hf_name_from_gguf(t.name).value_or(t.name);
    // Stacked experts: one view per expert, named as in HF checkpoints.
    const std::string_view suffix = "_exps.weight";
    const size_t experts = hf.find(".mlp.experts.");
    if (experts != std::string::npos && t.name.size() > suffix.size() &&
        t.name.compare(t.name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      if (t.rank != 3 || t.shape[0] != config.moe.n_routed_experts)
        return Error{path + ": tensor " + t.name + " has shape " + t.shape_string() + ", expected [" +
                     std::to_string(config.moe.n_routed_experts) + " experts, rows, cols]"};
      const size_t at = experts + std::string_view(".mlp.experts.").size();
      for (int64_t e = 0; e < t.shape[0]; ++e) {
        Tensor view = t.slice_outer(e);
        view.name = hf.substr(0, at) + std::to_string(e) + "." + hf.substr(at);
        DSEEK_TRY(store.add(std::move(view), path));
      }
      continue;
    }
    t.name = std::move(hf);
    DSEEK_TRY(store.add(std::move(t), path));
  }
  return store;
}

}  // namespace dseek
