// The two attention blocks the trainer knows:
//  - MLA (DeepSeek-V2/V3), in its naive form: q from q_proj or
//    q_b_proj(q_a_layernorm(q_a_proj(x))); [c | k_pe] = kv_a_proj_with_mqa(x);
//    kv_b_proj(kv_a_layernorm(c)) = per head [k_nope | v]; one rotated k_pe
//    shared by every head; RoPE on adjacent pairs.
//  - GQA (llama/qwen2): q/k/v/o projections with optional biases, RoPE in
//    the rotate_half form HF checkpoints are stored for.
// Both run causal attention over n_seq sequences of seq_len tokens each.
#pragma once

#include "train/layers.h"
#include "train/train_ops.h"

namespace dseek::train {

struct Mla {
  bool q_lora = false;
  Linear q_proj;  // when !q_lora
  Linear q_a_proj, q_b_proj;
  Norm q_a_norm;
  Linear kv_a_proj;  // -> [kv_lora_rank + qk_rope_head_dim]
  Norm kv_a_norm;
  Linear kv_b_proj;  // -> heads * (qk_nope_head_dim + v_head_dim)
  Linear o_proj;
  int64_t heads = 0, nope = 0, rope = 0, v_dim = 0, kv_rank = 0;
  float scale = 1.0f;
  int64_t q_head() const { return nope + rope; }
};

struct MlaSaved {
  Buffer qa, qan;  // q_lora only
  NormSaved qa_norm;
  Buffer q;      // [rows][heads][nope + rope], q_pe rotated
  Buffer c;      // [rows][kv_rank], before kv_a_layernorm
  NormSaved c_norm;
  Buffer cn;     // kv_a_layernorm(c)
  Buffer k, v;   // per head: [k_nope | rotated k_pe], v
  Buffer probs, o;
};

struct Gqa {
  Linear q_proj, k_proj, v_proj, o_proj;
  int64_t heads = 0, kv_heads = 0, head_dim = 0;
  float scale = 1.0f;
};

struct GqaSaved {
  Buffer q, k, v, probs, o;
};

struct SeqShape {
  int64_t n_seq = 0, seq_len = 0;
  int64_t rows() const { return n_seq * seq_len; }
};

void mla_forward(ThreadPool& pool, const Mla& m, const SeqShape& shape, const RopeTable& rope, const float* x,
                 float* out, MlaSaved& saved);
// dx = d/dx (overwritten).
void mla_backward(ThreadPool& pool, const Mla& m, const SeqShape& shape, const RopeTable& rope, const float* x,
                  const MlaSaved& saved, const float* dout, float* dx);

void gqa_forward(ThreadPool& pool, const Gqa& m, const SeqShape& shape, const RopeTable& rope, const float* x,
                 float* out, GqaSaved& saved);
void gqa_backward(ThreadPool& pool, const Gqa& m, const SeqShape& shape, const RopeTable& rope, const float* x,
                  const GqaSaved& saved, const float* dout, float* dx);

}  // namespace dseek::train
