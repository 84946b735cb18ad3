// One decoder layer for training:
//   h += attention(input_layernorm(h)); h += feed_forward(post_attention_layernorm(h))
// with MLA or GQA attention and a dense SwiGLU or DeepSeekMoE feed-forward.
#pragma once

#include "train/attention_layers.h"
#include "train/moe.h"

namespace dseek::train {

struct DecoderLayer {
  int64_t index = 0;  // layer number in the checkpoint
  int64_t hidden = 0;
  Norm input_norm, post_norm;
  bool uses_mla = false;
  Mla mla;
  Gqa gqa;
  bool is_moe = false;
  SwiGlu mlp;
  Moe moe;
  std::vector<int64_t> expert_counts;  // tokens per routed expert since the last reset
};

struct LayerSaved {
  Buffer h_in, x1, h_mid, x2;  // input, normed input, after attention, normed
  NormSaved n1, n2;
  MlaSaved mla;
  GqaSaved gqa;
  SwiGluSaved mlp;
  MoeSaved moe;
};

// h [rows][hidden] is updated in place. Returns the layer's balance loss.
double decoder_forward(ThreadPool& pool, DecoderLayer& layer, const SeqShape& shape, const RopeTable& rope, float* h,
                       LayerSaved& saved, float balance_alpha);
// dh: gradient w.r.t. the layer's output, replaced by the gradient w.r.t. its input.
void decoder_backward(ThreadPool& pool, const DecoderLayer& layer, const SeqShape& shape, const RopeTable& rope,
                      const LayerSaved& saved, float* dh, float balance_scale);

}  // namespace dseek::train
