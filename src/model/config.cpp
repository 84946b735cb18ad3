#include "model/config.h"

#include "model/param_count.h"

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

namespace dseek {

std::string_view family_name(Family f) {
  switch (f) {
    case Family::kDeepseekV2: return "deepseek_v2";
    case Family::kDeepseekV3: return "deepseek_v3";
    case Family::kLlama: return "llama";
    case Family::kQwen2: return "qwen2";
  }
  return "?";
}

namespace {

using nlohmann::json;

// Reads typed fields of one JSON object; the first failure is kept and every
// message names the field, e.g. "config.json: hidden_size: expected an integer".
class FieldReader {
 public:
  FieldReader(const json& object, std::string prefix) : object_(object), prefix_(std::move(prefix)) {}

  bool has(const char* key) const { return object_.contains(key) && !object_[key].is_null(); }

  int64_t integer(const char* key, int64_t fallback, int64_t lo, int64_t hi, bool required = false) {
    if (!has(key)) {
      if (required) fail(key, "is required");
      return fallback;
    }
    const json& v = object_[key];
    int64_t value = 0;
    if (v.is_number_integer()) {
      value = v.get<int64_t>();
    } else if (v.is_number_float() && std::isfinite(v.get<double>()) &&
               v.get<double>() == std::floor(v.get<double>()) && std::fabs(v.get<double>()) < 9e15) {
      value = static_cast<int64_t>(v.get<double>());
    } else {
      fail(key, "expected an integer, got " + v.dump());
      return fallback;
    }
    if (value < lo || value > hi)
      fail(key, std::to_string(value) + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return value;
  }

  double number(const char* key, double fallback, double lo, double hi) {
    if (!has(key)) return fallback;
    const json& v = object_[key];
    if (!v.is_number()) {
      fail(key, "expected a number, got " + v.dump());
      return fallback;
    }
    double value = v.get<double>();
    if (!std::isfinite(value) || value < lo || value > hi) {
      fail(key, v.dump() + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
      return fallback;
    }
    return value;
  }

  bool boolean(const char* key, bool fallback) {
    if (!has(key)) return fallback;
    if (!object_[key].is_boolean()) {
      fail(key, "expected true or false, got " + object_[key].dump());
      return fallback;
    }
    return object_[key].get<bool>();
  }

  std::string string(const char* key, const std::string& fallback, bool required = false) {
    if (!has(key)) {
      if (required) fail(key, "is required");
      return fallback;
    }
    if (!object_[key].is_string()) {
      fail(key, "expected a string, got " + object_[key].dump());
      return fallback;
    }
    return object_[key].get<std::string>();
  }

  void fail(const std::string& key, const std::string& what) {
    if (error_.empty()) error_ = prefix_ + key + ": " + what;
  }
  const std::string& error() const { return error_; }

 private:
  const json& object_;
  std::string prefix_;
  std::string error_;
};

constexpr int64_t kMaxDim = 1 << 20;
constexpr int64_t kMaxVocab = 1 << 23;
constexpr int64_t kMaxLayers = 4096;
constexpr int64_t kMaxHeads = 4096;
constexpr int64_t kMaxExperts = 1 << 16;
constexpr int64_t kMaxPositions = int64_t{1} << 30;

std::string parse_rope_scaling(const json& j, ModelConfig& c) {
  if (!j.contains("rope_scaling") || j["rope_scaling"].is_null()) return "";
  const json& rs = j["rope_scaling"];
  if (!rs.is_object()) return "rope_scaling: expected an object";
  FieldReader r(rs, "rope_scaling.");
  std::string type = r.has("rope_type") ? r.string("rope_type", "") : r.string("type", "");
  RopeScaling& s = c.rope_scaling;
  if (type == "default" || type.empty()) {
    s.type = RopeScalingType::kNone;
    return r.error();
  }
  s.factor = r.number("factor", 0.0, 0.0, 1e6);
  if (type == "linear") {
    s.type = RopeScalingType::kLinear;
  } else if (type == "yarn") {
    s.type = RopeScalingType::kYarn;
    s.original_max_position_embeddings = r.integer("original_max_position_embeddings", 4096, 1, kMaxPositions);
    s.beta_fast = r.number("beta_fast", 32.0, 0.0, 1e6);
    s.beta_slow = r.number("beta_slow", 1.0, 0.0, 1e6);
    s.mscale = r.number("mscale", 1.0, 0.0, 1e6);
    s.mscale_all_dim = r.number("mscale_all_dim", 0.0, 0.0, 1e6);
    if (r.error().empty() && !(s.beta_fast > 0 && s.beta_slow > 0))
      r.fail("beta_fast", "beta_fast and beta_slow must be positive");
  } else if (type == "llama3") {
    s.type = RopeScalingType::kLlama3;
    s.original_max_position_embeddings = r.integer("original_max_position_embeddings", 0, 1, kMaxPositions, true);
    s.low_freq_factor = r.number("low_freq_factor", 1.0, 0.0, 1e6);
    s.high_freq_factor = r.number("high_freq_factor", 4.0, 0.0, 1e6);
    if (r.error().empty() && !(s.high_freq_factor > s.low_freq_factor))
      r.fail("high_freq_factor", "must be greater than low_freq_factor");
  } else {
    return "rope_scaling.type: '" + type + "' is not supported (supported: linear, yarn, llama3)";
  }
  if (r.error().empty() && !(s.factor >= 1.0)) r.fail("factor", "must be >= 1");
  return r.error();
}

std::string parse_quantization(const json& j, ModelConfig& c) {
  if (!j.contains("quantization_config") || j["quantization_config"].is_null()) return "";
  const json& q = j["quantization_config"];
  if (!q.is_object()) return "quantization_config: expected an object";
  FieldReader r(q, "quantization_config.");
  std::string method = r.string("quant_method", "", true);
  if (!r.error().empty()) return r.error();
  if (method != "fp8")
    return "quantization_config.quant_method: '" + method + "' is not supported (supported: fp8 as DeepSeek ships it)";
  std::string fmt = r.string("fmt", "e4m3");
  if (fmt != "e4m3") return "quantization_config.fmt: '" + fmt + "' is not supported (supported: e4m3)";
  c.fp8.enabled = true;
  if (q.contains("weight_block_size")) {
    const json& b = q["weight_block_size"];
    if (!b.is_array() || b.size() != 2 || !b[0].is_number_unsigned() || !b[1].is_number_unsigned() ||
        b[0].get<uint64_t>() == 0 || b[1].get<uint64_t>() == 0 || b[0].get<uint64_t>() > 65536 ||
        b[1].get<uint64_t>() > 65536)
      return "quantization_config.weight_block_size: expected two positive integers, got " + b.dump();
    c.fp8.block_rows = b[0].get<int64_t>();
    c.fp8.block_cols = b[1].get<int64_t>();
  }
  return r.error();
}

std::string parse_eos(const json& j, ModelConfig& c) {
  if (!j.contains("eos_token_id") || j["eos_token_id"].is_null()) return "";
  const json& e = j["eos_token_id"];
  auto valid = [](const json& v) { return v.is_number_integer() && v.get<int64_t>() >= 0; };
  if (valid(e)) {
    c.eos_token_ids.push_back(e.get<int64_t>());
  } else if (e.is_array()) {
    for (const auto& v : e) {
      if (!valid(v)) return "eos_token_id: expected non-negative integers, got " + e.dump();
      c.eos_token_ids.push_back(v.get<int64_t>());
    }
  } else {
    return "eos_token_id: expected an integer or a list, got " + e.dump();
  }
  return "";
}

std::string parse_deepseek(const json& j, ModelConfig& c) {
  FieldReader r(j, "");
  MlaConfig& m = c.mla;
  m.q_lora_rank = r.integer("q_lora_rank", 0, 1, kMaxDim);
  m.kv_lora_rank = r.integer("kv_lora_rank", 0, 1, kMaxDim, true);
  m.qk_nope_head_dim = r.integer("qk_nope_head_dim", 0, 1, kMaxDim, true);
  m.qk_rope_head_dim = r.integer("qk_rope_head_dim", 0, 2, kMaxDim, true);
  m.v_head_dim = r.integer("v_head_dim", 0, 1, kMaxDim, true);
  if (r.error().empty() && m.qk_rope_head_dim % 2 != 0) r.fail("qk_rope_head_dim", "must be even");
  if (r.boolean("attention_bias", false)) r.fail("attention_bias", "true is not supported for DeepSeek MLA");

  MoeConfig& e = c.moe;
  e.n_routed_experts = r.integer("n_routed_experts", 0, 1, kMaxExperts);
  if (e.n_routed_experts > 0) {
    e.n_shared_experts = r.integer("n_shared_experts", 0, 0, kMaxExperts);
    e.num_experts_per_tok = r.integer("num_experts_per_tok", 0, 1, e.n_routed_experts, true);
    e.moe_intermediate_size = r.integer("moe_intermediate_size", 0, 1, kMaxDim, true);
    e.first_k_dense_replace = r.integer("first_k_dense_replace", 0, 0, kMaxLayers);
    e.moe_layer_freq = r.integer("moe_layer_freq", 1, 1, kMaxLayers);
    e.n_group = r.integer("n_group", 1, 1, e.n_routed_experts);
    e.topk_group = r.integer("topk_group", 1, 1, e.n_group);
    e.norm_topk_prob = r.boolean("norm_topk_prob", false);
    e.routed_scaling_factor = r.number("routed_scaling_factor", 1.0, 0.0, 1e6);
    std::string scoring = r.string("scoring_func", "softmax");
    std::string method = r.string("topk_method", c.family == Family::kDeepseekV3 ? "noaux_tc" : "greedy");
    if (!r.error().empty()) return r.error();
    if (scoring == "softmax") e.scoring_func = ScoringFunc::kSoftmax;
    else if (scoring == "sigmoid") e.scoring_func = ScoringFunc::kSigmoid;
    else return "scoring_func: '" + scoring + "' is not supported (supported: softmax, sigmoid)";
    if (method == "greedy") e.topk_method = TopkMethod::kGreedy;
    else if (method == "group_limited_greedy") e.topk_method = TopkMethod::kGroupLimitedGreedy;
    else if (method == "noaux_tc") e.topk_method = TopkMethod::kNoauxTc;
    else return "topk_method: '" + method + "' is not supported (supported: greedy, group_limited_greedy, noaux_tc)";
    if (e.n_routed_experts % e.n_group != 0)
      return "n_group: " + std::to_string(e.n_group) + " does not divide n_routed_experts " + std::to_string(e.n_routed_experts);
    int64_t per_group = e.n_routed_experts / e.n_group;
    if (e.topk_method != TopkMethod::kGreedy && e.num_experts_per_tok > e.topk_group * per_group)
      return "num_experts_per_tok: " + std::to_string(e.num_experts_per_tok) + " exceeds the experts in topk_group groups";
    if (e.topk_method == TopkMethod::kNoauxTc && per_group < 2 && e.n_group > 1)
      return "n_group: noaux_tc ranks groups by their top-2 scores, so each group needs at least 2 experts";
  }
  c.num_nextn_predict_layers = r.integer("num_nextn_predict_layers", 0, 0, 16);
  return r.error();
}

}  // namespace

Result<ModelConfig> parse_model_config(std::string_view json_text, const std::string& source) {
  json j;
  try {
    j = json::parse(json_text.begin(), json_text.end());
  } catch (const json::exception& ex) {
    return Error{source + ": not valid JSON: " + ex.what()};
  }
  if (!j.is_object()) return Error{source + ": expected a JSON object"};
  auto fail = [&](const std::string& what) { return Error{source + ": " + what}; };

  ModelConfig c;
  FieldReader r(j, "");
  c.model_type = r.string("model_type", "", true);
  if (!r.error().empty()) return fail(r.error());
  if (c.model_type == "deepseek_v2") c.family = Family::kDeepseekV2;
  else if (c.model_type == "deepseek_v3") c.family = Family::kDeepseekV3;
  else if (c.model_type == "llama") c.family = Family::kLlama;
  else if (c.model_type == "qwen2") c.family = Family::kQwen2;
  else
    return fail("model_type '" + c.model_type +
                "' is not supported (supported: deepseek_v2, deepseek_v3, llama, qwen2)");

  c.vocab_size = r.integer("vocab_size", 0, 1, kMaxVocab, true);
  c.hidden_size = r.integer("hidden_size", 0, 1, kMaxDim, true);
  c.intermediate_size = r.integer("intermediate_size", 0, 1, kMaxDim, true);
  c.num_hidden_layers = r.integer("num_hidden_layers", 0, 1, kMaxLayers, true);
  c.num_attention_heads = r.integer("num_attention_heads", 0, 1, kMaxHeads, true);
  c.num_key_value_heads = r.integer("num_key_value_heads", c.num_attention_heads, 1, kMaxHeads);
  c.rms_norm_eps = r.number("rms_norm_eps", 1e-6, 0.0, 1.0);
  c.rope_theta = r.number("rope_theta", 10000.0, 1.0, 1e12);
  c.max_position_embeddings = r.integer("max_position_embeddings", 4096, 1, kMaxPositions);
  c.tie_word_embeddings = r.boolean("tie_word_embeddings", false);
  c.bos_token_id = r.integer("bos_token_id", -1, 0, kMaxVocab);
  std::string act = r.string("hidden_act", "silu");
  if (!r.error().empty()) return fail(r.error());
  if (act != "silu") return fail("hidden_act: '" + act + "' is not supported (supported: silu)");

  for (auto* part : {&parse_rope_scaling, &parse_quantization, &parse_eos}) {
    std::string err = (*part)(j, c);
    if (!err.empty()) return fail(err);
  }

  if (c.uses_mla()) {
    std::string err = parse_deepseek(j, c);
    if (!err.empty()) return fail(err);
  } else {
    c.head_dim = r.integer("head_dim", 0, 1, kMaxDim);
    if (c.head_dim == 0) {
      if (c.hidden_size % c.num_attention_heads != 0)
        return fail("hidden_size " + std::to_string(c.hidden_size) + " is not a multiple of num_attention_heads " +
                    std::to_string(c.num_attention_heads));
      c.head_dim = c.hidden_size / c.num_attention_heads;
    }
    if (c.head_dim % 2 != 0) return fail("head_dim: must be even for rotary embeddings");
    if (c.num_attention_heads % c.num_key_value_heads != 0)
      return fail("num_key_value_heads " + std::to_string(c.num_key_value_heads) +
                  " does not divide num_attention_heads " + std::to_string(c.num_attention_heads));
    if (c.family == Family::kQwen2) {
      c.qkv_bias = true;
      if (r.boolean("use_sliding_window", false))
        return fail("use_sliding_window: true is not supported");
    } else {
      c.attention_bias = r.boolean("attention_bias", false);
      if (r.boolean("mlp_bias", false)) return fail("mlp_bias: true is not supported");
    }
    if (c.fp8.enabled) return fail("quantization_config: fp8 is only supported for deepseek_v3 checkpoints");
  }
  if (!r.error().empty()) return fail(r.error());
  if (c.bos_token_id >= c.vocab_size) return fail("bos_token_id is not below vocab_size");
  const ParameterCountF params = count_parameters_f(c);
  if (params.total + params.mtp > kMaxParameters)
    return fail("the dimensions describe " + std::to_string(params.total + params.mtp) +
                " parameters, which is absurd (limit 1e14)");
  for (int64_t e : c.eos_token_ids)
    if (e >= c.vocab_size) return fail("eos_token_id " + std::to_string(e) + " is not below vocab_size");
  return c;
}

}  // namespace dseek
