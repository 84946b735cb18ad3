// The hyper-parameters of a model, under the names of the published
// config.json files (kv_lora_rank, qk_rope_head_dim, n_routed_experts, ...),
// so this file reads side by side with the DeepSeek configs and papers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace dseek {

enum class Family { kDeepseekV2, kDeepseekV3, kLlama, kQwen2 };
std::string_view family_name(Family f);

enum class RopeScalingType { kNone, kLinear, kYarn, kLlama3 };

struct RopeScaling {
  RopeScalingType type = RopeScalingType::kNone;
  double factor = 1.0;
  int64_t original_max_position_embeddings = 0;
  // yarn
  double beta_fast = 32.0;
  double beta_slow = 1.0;
  double mscale = 1.0;
  double mscale_all_dim = 0.0;
  // llama3
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  // Per-pair divisors of the base frequencies, as llama.cpp stores llama3
  // scaling in GGUF files (rope_freqs.weight); empty when not given.
  std::vector<double> freq_factors;
};

// Multi-head latent attention (DeepSeek-V2/V3).
struct MlaConfig {
  int64_t q_lora_rank = 0;  // 0: q = q_proj(x) directly (V2-Lite)
  int64_t kv_lora_rank = 0;
  int64_t qk_nope_head_dim = 0;
  int64_t qk_rope_head_dim = 0;
  int64_t v_head_dim = 0;
};

enum class ScoringFunc { kSoftmax, kSigmoid };
enum class TopkMethod { kGreedy, kGroupLimitedGreedy, kNoauxTc };

// DeepSeekMoE: shared experts always run; routed experts chosen per token.
struct MoeConfig {
  int64_t n_routed_experts = 0;  // 0: every layer is dense
  int64_t n_shared_experts = 0;
  int64_t num_experts_per_tok = 0;
  int64_t moe_intermediate_size = 0;
  int64_t first_k_dense_replace = 0;
  int64_t moe_layer_freq = 1;
  int64_t n_group = 1;
  int64_t topk_group = 1;
  TopkMethod topk_method = TopkMethod::kGreedy;
  ScoringFunc scoring_func = ScoringFunc::kSoftmax;
  bool norm_topk_prob = false;
  double routed_scaling_factor = 1.0;
};

// DeepSeek-V3's shipped fp8: e4m3 weights, one f32 scale per block.
struct Fp8Config {
  bool enabled = false;
  int64_t block_rows = 128;
  int64_t block_cols = 128;
};

struct ModelConfig {
  std::string model_type;
  Family family = Family::kLlama;

  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;
  int64_t head_dim = 0;  // dense families
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  int64_t max_position_embeddings = 0;
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // llama: bias on q/k/v/o
  bool qkv_bias = false;        // qwen2: bias on q/k/v only
  // Dense families: q/k rows are stored in llama.cpp's order for adjacent-pair
  // RoPE (convert_hf_to_gguf permutes llama's q_proj/k_proj), so rotate pairs
  // (2i, 2i+1) instead of HF's (i, i + d/2). Same attention, other row order.
  bool rope_adjacent_pairs = false;

  MlaConfig mla;
  MoeConfig moe;
  int64_t num_nextn_predict_layers = 0;  // V3's multi-token-prediction modules
  Fp8Config fp8;

  int64_t bos_token_id = -1;
  std::vector<int64_t> eos_token_ids;

  bool uses_mla() const { return family == Family::kDeepseekV2 || family == Family::kDeepseekV3; }
  bool is_moe_layer(int64_t layer) const {
    return moe.n_routed_experts > 0 && layer >= moe.first_k_dense_replace &&
           layer % moe.moe_layer_freq == 0;
  }
};

// Parses and validates config.json text; `source` names the file in errors.
Result<ModelConfig> parse_model_config(std::string_view json_text, const std::string& source);

}  // namespace dseek
