#include "model/param_count.h"

namespace dseek {

namespace {

// Counted in double: a config is input, and its products must not overflow
// before the parser has had the chance to call them absurd. Counts below 2^53
// (every real model) are exact.
struct LayerCount {
  double total = 0;
  double inactive = 0;  // routed experts a token does not use
};

LayerCount mla_layer(const ModelConfig& c, int64_t index) {
  const MlaConfig& m = c.mla;
  const double h = static_cast<double>(c.hidden_size), heads = static_cast<double>(c.num_attention_heads);
  const double q_dim = heads * (m.qk_nope_head_dim + m.qk_rope_head_dim);
  LayerCount n;
  n.total += m.q_lora_rank == 0 ? h * q_dim : h * m.q_lora_rank + m.q_lora_rank + m.q_lora_rank * q_dim;
  n.total += h * (m.kv_lora_rank + m.qk_rope_head_dim) + m.kv_lora_rank;
  n.total += m.kv_lora_rank * heads * (m.qk_nope_head_dim + m.v_head_dim);
  n.total += heads * m.v_head_dim * h;
  n.total += 2 * h;  // input and post-attention norms
  if (!c.is_moe_layer(index)) {
    n.total += 3 * h * c.intermediate_size;
    return n;
  }
  const MoeConfig& e = c.moe;
  const double expert = 3 * h * static_cast<double>(e.moe_intermediate_size);
  const double routed = static_cast<double>(e.n_routed_experts);
  n.total += routed * h;  // router
  if (e.topk_method == TopkMethod::kNoauxTc) n.total += routed;
  n.total += routed * expert + static_cast<double>(e.n_shared_experts) * expert;
  n.inactive = (routed - static_cast<double>(e.num_experts_per_tok)) * expert;
  return n;
}

LayerCount dense_layer(const ModelConfig& c) {
  const double h = static_cast<double>(c.hidden_size);
  const double q_dim = static_cast<double>(c.num_attention_heads * c.head_dim);
  const double kv_dim = static_cast<double>(c.num_key_value_heads * c.head_dim);
  LayerCount n;
  n.total = h * q_dim + 2 * h * kv_dim + q_dim * h + 3 * h * c.intermediate_size + 2 * h;
  if (c.qkv_bias || c.attention_bias) n.total += q_dim + 2 * kv_dim;
  if (c.attention_bias) n.total += h;
  return n;
}

}  // namespace

ParameterCountF count_parameters_f(const ModelConfig& c) {
  ParameterCountF p;
  const double h = static_cast<double>(c.hidden_size);
  const double embed = static_cast<double>(c.vocab_size) * h;
  p.total = embed + h + (c.tie_word_embeddings ? 0 : embed);
  double inactive = 0;
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    LayerCount n = c.uses_mla() ? mla_layer(c, i) : dense_layer(c);
    p.total += n.total;
    inactive += n.inactive;
  }
  p.active = p.total - inactive - embed;
  for (int64_t m = 0; m < c.num_nextn_predict_layers; ++m) {
    // enorm, hnorm, eh_proj, one decoder layer, shared_head.norm; DeepSeek
    // ships embedding and head copies in the module too.
    p.mtp += 3 * h + 2 * h * h + mla_layer(c, c.num_hidden_layers + m).total + 2 * embed;
  }
  return p;
}

ParameterCount count_parameters(const ModelConfig& c) {
  const ParameterCountF f = count_parameters_f(c);
  DSEEK_CHECK(f.total + f.mtp <= kMaxParameters);  // parse_model_config refuses larger models
  return {static_cast<int64_t>(f.total), static_cast<int64_t>(f.active), static_cast<int64_t>(f.mtp)};
}

}  // namespace dseek
