#include "train/decoder.h"

namespace dseek::train {

double decoder_forward(ThreadPool& pool, DecoderLayer& layer, const SeqShape& shape, const RopeTable& rope, float* h,
                       LayerSaved& s, float balance_alpha) {
  const int64_t n = shape.rows();
  const size_t size = static_cast<size_t>(n * layer.hidden);
  s.h_in.assign(h, h + size);
  s.x1.resize(size);
  norm_forward(layer.input_norm, h, n, s.x1.data(), s.n1);
  Buffer delta(size);
  if (layer.uses_mla) mla_forward(pool, layer.mla, shape, rope, s.x1.data(), delta.data(), s.mla);
  else gqa_forward(pool, layer.gqa, shape, rope, s.x1.data(), delta.data(), s.gqa);
  for (size_t i = 0; i < size; ++i) h[i] += delta[i];
  s.h_mid.assign(h, h + size);
  s.x2.resize(size);
  norm_forward(layer.post_norm, h, n, s.x2.data(), s.n2);
  double balance = 0.0;
  if (layer.is_moe)
    balance = moe_forward(pool, layer.moe, shape, s.x2.data(), delta.data(), s.moe, layer.expert_counts, balance_alpha);
  else
    swiglu_forward(pool, layer.mlp, s.x2.data(), n, delta.data(), s.mlp);
  for (size_t i = 0; i < size; ++i) h[i] += delta[i];
  return balance;
}

void decoder_backward(ThreadPool& pool, const DecoderLayer& layer, const SeqShape& shape, const RopeTable& rope,
                      const LayerSaved& s, float* dh, float balance_scale) {
  const int64_t n = shape.rows();
  const size_t size = static_cast<size_t>(n * layer.hidden);
  Buffer dx(size);
  // Feed-forward branch: dh_mid = dh + norm2'(ffn'(dh)).
  if (layer.is_moe) moe_backward(pool, layer.moe, shape, s.x2.data(), s.moe, dh, balance_scale, dx.data());
  else swiglu_backward(pool, layer.mlp, s.x2.data(), s.mlp, dh, n, dx.data(), false);
  norm_backward(layer.post_norm, s.h_mid.data(), s.n2, dx.data(), n, dh, true);
  // Attention branch: dh_in = dh_mid + norm1'(attn'(dh_mid)).
  if (layer.uses_mla) mla_backward(pool, layer.mla, shape, rope, s.x1.data(), s.mla, dh, dx.data());
  else gqa_backward(pool, layer.gqa, shape, rope, s.x1.data(), s.gqa, dh, dx.data());
  norm_backward(layer.input_norm, s.h_in.data(), s.n1, dx.data(), n, dh, true);
}

}  // namespace dseek::train
