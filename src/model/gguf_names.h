// The one place where llama.cpp's GGUF tensor names meet the Hugging Face
// names that dseek's model code uses (blk.3.attn_q_a.weight <->
// model.layers.3.self_attn.q_a_proj.weight), in both directions: loading a
// GGUF renames its tensors, `dseek convert` renames the other way.
//
// Two GGUF layouts have no single HF tensor and get names of their own,
// following the HF pattern:
//   - stacked experts blk.N.ffn_{gate,up,down}_exps.weight [experts, rows, cols]
//     <-> model.layers.N.mlp.experts.{gate,up,down}_proj.weight (the loader
//     slices it into per-expert views model.layers.N.mlp.experts.E.*);
//   - MLA's split up-projection blk.N.attn_k_b.weight [heads, kv_lora, nope]
//     and blk.N.attn_v_b.weight [heads, v, kv_lora]
//     <-> model.layers.N.self_attn.{k_b_proj,v_b_proj}.weight.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dseek {

// nullopt for names outside the table (the caller keeps them as they are,
// so an unknown tensor is reported as unused rather than silently dropped).
std::optional<std::string> hf_name_from_gguf(std::string_view gguf_name);
std::optional<std::string> gguf_name_from_hf(std::string_view hf_name);

// "model.layers.N.mlp.experts.E.gate_proj.weight" -> N, E and "gate_proj";
// false for other names.
bool parse_expert_name(std::string_view hf_name, int64_t& layer, int64_t& expert, std::string& projection);

}  // namespace dseek
