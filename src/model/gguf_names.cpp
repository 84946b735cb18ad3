#include "model/gguf_names.h"

#include <charconv>

namespace dseek {

namespace {

struct NamePair {
  std::string_view gguf;
  std::string_view hf;
};

// Tensors outside the layers.
constexpr NamePair kGlobal[] = {
    {"token_embd.weight", "model.embed_tokens.weight"},
    {"output_norm.weight", "model.norm.weight"},
    {"output.weight", "lm_head.weight"},
};

// Per layer: blk.N.<gguf> <-> model.layers.N.<hf> (llama.cpp's
// LLM_TENSOR_NAMES for llama, qwen2 and deepseek2).
constexpr NamePair kLayer[] = {
    {"attn_norm.weight", "input_layernorm.weight"},
    {"ffn_norm.weight", "post_attention_layernorm.weight"},
    // llama / qwen2 attention
    {"attn_q.weight", "self_attn.q_proj.weight"},
    {"attn_q.bias", "self_attn.q_proj.bias"},
    {"attn_k.weight", "self_attn.k_proj.weight"},
    {"attn_k.bias", "self_attn.k_proj.bias"},
    {"attn_v.weight", "self_attn.v_proj.weight"},
    {"attn_v.bias", "self_attn.v_proj.bias"},
    {"attn_output.weight", "self_attn.o_proj.weight"},
    {"attn_output.bias", "self_attn.o_proj.bias"},
    // DeepSeek MLA (attn_q is q_proj when q_lora_rank is null)
    {"attn_q_a.weight", "self_attn.q_a_proj.weight"},
    {"attn_q_a_norm.weight", "self_attn.q_a_layernorm.weight"},
    {"attn_q_b.weight", "self_attn.q_b_proj.weight"},
    {"attn_kv_a_mqa.weight", "self_attn.kv_a_proj_with_mqa.weight"},
    {"attn_kv_a_norm.weight", "self_attn.kv_a_layernorm.weight"},
    {"attn_kv_b.weight", "self_attn.kv_b_proj.weight"},
    {"attn_k_b.weight", "self_attn.k_b_proj.weight"},
    {"attn_v_b.weight", "self_attn.v_b_proj.weight"},
    // Dense feed-forward
    {"ffn_gate.weight", "mlp.gate_proj.weight"},
    {"ffn_up.weight", "mlp.up_proj.weight"},
    {"ffn_down.weight", "mlp.down_proj.weight"},
    // DeepSeekMoE
    {"ffn_gate_inp.weight", "mlp.gate.weight"},
    {"exp_probs_b.bias", "mlp.gate.e_score_correction_bias"},
    {"ffn_gate_exps.weight", "mlp.experts.gate_proj.weight"},
    {"ffn_up_exps.weight", "mlp.experts.up_proj.weight"},
    {"ffn_down_exps.weight", "mlp.experts.down_proj.weight"},
    {"ffn_gate_shexp.weight", "mlp.shared_experts.gate_proj.weight"},
    {"ffn_up_shexp.weight", "mlp.shared_experts.up_proj.weight"},
    {"ffn_down_shexp.weight", "mlp.shared_experts.down_proj.weight"},
};

// "<prefix><digits>.<rest>" -> digits and rest.
bool split_layer(std::string_view name, std::string_view prefix, int64_t& layer, std::string_view& rest) {
  if (name.substr(0, prefix.size()) != prefix) return false;
  name.remove_prefix(prefix.size());
  const size_t dot = name.find('.');
  if (dot == std::string_view::npos || dot == 0) return false;
  auto [ptr, ec] = std::from_chars(name.data(), name.data() + dot, layer);
  if (ec != std::errc() || ptr != name.data() + dot || layer < 0) return false;
  rest = name.substr(dot + 1);
  return true;
}

}  // namespace

std::optional<std::string> hf_name_from_gguf(std::string_view gguf_name) {
  for (const NamePair& p : kGlobal)
    if (p.gguf == gguf_name) return std::string(p.hf);
  int64_t layer = 0;
  std::string_view rest;
  if (!split_layer(gguf_name, "blk.", layer, rest)) return std::nullopt;
  for (const NamePair& p : kLayer)
    if (p.gguf == rest) return "model.layers." + std::to_string(layer) + "." + std::string(p.hf);
  return std::nullopt;
}

std::optional<std::string> gguf_name_from_hf(std::string_view hf_name) {
  for (const NamePair& p : kGlobal)
    if (p.hf == hf_name) return std::string(p.gguf);
  int64_t layer = 0;
  std::string_view rest;
  if (!split_layer(hf_name, "model.layers.", layer, rest)) return std::nullopt;
  for (const NamePair& p : kLayer)
    if (p.hf == rest) return "blk." + std::to_string(layer) + "." + std::string(p.gguf);
  return std::nullopt;
}

bool parse_expert_name(std::string_view hf_name, int64_t& layer, int64_t& expert, std::string& projection) {
  std::string_view rest;
  if (!split_layer(hf_name, "model.layers.", layer, rest)) return false;
  if (!split_layer(rest, "mlp.experts.", expert, rest)) return false;
  for (std::string_view p : {"gate_proj", "up_proj", "down_proj"}) {
    if (rest.size() == p.size() + 7 && rest.substr(0, p.size()) == p && rest.substr(p.size()) == ".weight") {
      projection = std::string(p);
      return true;
    }
  }
  return false;
}

}  // namespace dseek
