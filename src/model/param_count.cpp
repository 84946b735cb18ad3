#include "model/param_count.h"

namespace dseek {

namespace {

struct LayerCount {
  int64_t total = 0;
  int64_t inactive = 0;  // routed experts a token does not use
};

LayerCount mla_layer(const ModelConfig& c, int64_t index) {
  const MlaConfig& m = c.mla;
  const int64_t h = c.hidden_size, heads = c.num_attention_heads;
  const int64_t q_dim = heads * (m.qk_nope_head_dim + m.qk_rope_head_dim);
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
  const int64_t expert = 3 * h * e.moe_intermediate_size;
  n.total += e.n_routed_experts * h;  // router
  if (e.topk_method == TopkMethod::kNoauxTc) n.total += e.n_routed_experts;
  n.total += e.n_routed_experts * expert + e.n_shared_experts * expert;
  n.inactive = (e.n_routed_experts - e.num_experts_per_tok) * expert;
  return n;
}

LayerCount dense_layer(const ModelConfig& c) {
  const int64_t h = c.hidden_size;
  const int64_t q_dim = c.num_attention_heads * c.head_dim;
  const int64_t kv_dim = c.num_key_value_heads * c.head_dim;
  LayerCount n;
  n.total = h * q_dim + 2 * h * kv_dim + q_dim * h + 3 * h * c.intermediate_size + 2 * h;
  if (c.qkv_bias || c.attention_bias) n.total += q_dim + 2 * kv_dim;
  if (c.attention_bias) n.total += h;
  return n;
}

}  // namespace

ParameterCount count_parameters(const ModelConfig& c) {
  ParameterCount p;
  const int64_t embed = c.vocab_size * c.hidden_size;
  p.total = embed + c.hidden_size + (c.tie_word_embeddings ? 0 : embed);
  int64_t inactive = 0;
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    LayerCount n = c.uses_mla() ? mla_layer(c, i) : dense_layer(c);
    p.total += n.total;
    inactive += n.inactive;
  }
  p.active = p.total - inactive;
  for (int64_t m = 0; m < c.num_nextn_predict_layers; ++m) {
    // enorm, hnorm, eh_proj, one decoder layer, shared_head.norm; DeepSeek
    // ships embedding and head copies in the module too.
    p.mtp += 3 * c.hidden_size + 2 * c.hidden_size * c.hidden_size +
             mla_layer(c, c.num_hidden_layers + m).total + 2 * embed;
  }
  return p;
}

}  // namespace dseek
