#include "train/train_model.h"

#include <cmath>
#include <cstring>

#include "model/rope.h"
#include "train/gemm.h"
#include "train/rng.h"
#include "train/train_ops.h"

namespace dseek::train {

struct TrainModel::Pass {
  SeqShape shape;
  std::vector<int32_t> targets;
  Buffer h_last;  // residual stream after the last layer (MTP input, model.norm input)
  NormSaved final_saved;
  Buffer hf, logits;
  std::vector<LayerSaved> layers;
  double balance = 0.0;
  // MTP
  SeqShape mtp_shape;
  std::vector<int32_t> mtp_inputs, mtp_targets;
  Buffer e, en, hm, hn, a, h2_in, h2, h2n, mtp_logits;
  NormSaved e_saved, hm_saved, h2_saved;
  LayerSaved mtp_layer;
};

namespace {

Param* matrix(ParamStore& ps, const std::string& name, int64_t rows, int64_t cols) {
  return ps.add(name, {rows, cols});
}

Linear linear(ParamStore& ps, const std::string& prefix, int64_t in, int64_t out, bool bias = false) {
  Linear l;
  l.w = matrix(ps, prefix + ".weight", out, in);
  if (bias) l.b = ps.add(prefix + ".bias", {out}, true, false);
  l.in = in;
  l.out = out;
  return l;
}

Norm norm(ParamStore& ps, const std::string& name, int64_t n, float eps) {
  Norm m;
  m.w = ps.add(name, {n}, true, false);
  m.n = n;
  m.eps = eps;
  return m;
}

SwiGlu swiglu(ParamStore& ps, const std::string& prefix, int64_t hidden, int64_t inter) {
  SwiGlu m;
  m.gate = linear(ps, prefix + ".gate_proj", hidden, inter);
  m.up = linear(ps, prefix + ".up_proj", hidden, inter);
  m.down = linear(ps, prefix + ".down_proj", inter, hidden);
  return m;
}

bool all_finite(const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(x[i])) return false;
  return true;
}

}  // namespace

Result<std::unique_ptr<TrainModel>> TrainModel::create(const ModelConfig& c, const LossWeights& w) {
  if (c.num_nextn_predict_layers > 1)
    return Error{"num_nextn_predict_layers: " + std::to_string(c.num_nextn_predict_layers) +
                 " is not supported for training (0 or 1)"};
  if (c.num_nextn_predict_layers == 1 && !c.uses_mla())
    return Error{"num_nextn_predict_layers: the MTP module is only defined for deepseek models"};
  if (!(w.mtp_lambda >= 0.0f) || !(w.balance_alpha >= 0.0f))
    return Error{"mtp_lambda and balance_alpha must be non-negative"};
  auto model = std::unique_ptr<TrainModel>(new TrainModel(c, w));
  model->build();
  return model;
}

DecoderLayer TrainModel::build_layer(int64_t index) {
  const ModelConfig& c = config_;
  const std::string p = "model.layers." + std::to_string(index);
  const int64_t hidden = c.hidden_size;
  DecoderLayer layer;
  layer.index = index;
  layer.hidden = hidden;
  layer.input_norm = norm(params_, p + ".input_layernorm.weight", hidden, eps_);
  if (c.uses_mla()) {
    const MlaConfig& m = c.mla;
    Mla& a = layer.mla;
    layer.uses_mla = true;
    a.heads = c.num_attention_heads;
    a.nope = m.qk_nope_head_dim;
    a.rope = m.qk_rope_head_dim;
    a.v_dim = m.v_head_dim;
    a.kv_rank = m.kv_lora_rank;
    a.q_lora = m.q_lora_rank > 0;
    const int64_t q_dim = a.heads * a.q_head();
    const std::string s = p + ".self_attn";
    if (a.q_lora) {
      a.q_a_proj = linear(params_, s + ".q_a_proj", hidden, m.q_lora_rank);
      a.q_a_norm = norm(params_, s + ".q_a_layernorm.weight", m.q_lora_rank, eps_);
      a.q_b_proj = linear(params_, s + ".q_b_proj", m.q_lora_rank, q_dim);
    } else {
      a.q_proj = linear(params_, s + ".q_proj", hidden, q_dim);
    }
    a.kv_a_proj = linear(params_, s + ".kv_a_proj_with_mqa", hidden, m.kv_lora_rank + m.qk_rope_head_dim);
    a.kv_a_norm = norm(params_, s + ".kv_a_layernorm.weight", m.kv_lora_rank, eps_);
    a.kv_b_proj = linear(params_, s + ".kv_b_proj", m.kv_lora_rank, a.heads * (a.nope + a.v_dim));
    a.o_proj = linear(params_, s + ".o_proj", a.heads * a.v_dim, hidden);
    a.scale = static_cast<float>(yarn_softmax_scale_factor(c.rope_scaling) /
                                 std::sqrt(static_cast<double>(a.q_head())));
  } else {
    Gqa& a = layer.gqa;
    a.heads = c.num_attention_heads;
    a.kv_heads = c.num_key_value_heads;
    a.head_dim = c.head_dim;
    const bool qkv_bias = c.qkv_bias || c.attention_bias;
    const std::string s = p + ".self_attn";
    a.q_proj = linear(params_, s + ".q_proj", hidden, a.heads * a.head_dim, qkv_bias);
    a.k_proj = linear(params_, s + ".k_proj", hidden, a.kv_heads * a.head_dim, qkv_bias);
    a.v_proj = linear(params_, s + ".v_proj", hidden, a.kv_heads * a.head_dim, qkv_bias);
    a.o_proj = linear(params_, s + ".o_proj", a.heads * a.head_dim, hidden, c.attention_bias);
    a.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(a.head_dim)));
  }
  layer.post_norm = norm(params_, p + ".post_attention_layernorm.weight", hidden, eps_);
  layer.is_moe = c.uses_mla() && c.is_moe_layer(index);
  if (!layer.is_moe) {
    layer.mlp = swiglu(params_, p + ".mlp", hidden, c.intermediate_size);
    return layer;
  }
  const MoeConfig& e = c.moe;
  Moe& moe = layer.moe;
  moe.cfg = &config_.moe;
  moe.hidden = hidden;
  moe.gate = linear(params_, p + ".mlp.gate", hidden, e.n_routed_experts);
  if (e.topk_method == TopkMethod::kNoauxTc)
    moe.bias = params_.add(p + ".mlp.gate.e_score_correction_bias", {e.n_routed_experts}, false);
  for (int64_t x = 0; x < e.n_routed_experts; ++x)
    moe.experts.push_back(swiglu(params_, p + ".mlp.experts." + std::to_string(x), hidden, e.moe_intermediate_size));
  if (e.n_shared_experts > 0) {
    moe.has_shared = true;
    moe.shared = swiglu(params_, p + ".mlp.shared_experts", hidden, e.n_shared_experts * e.moe_intermediate_size);
  }
  layer.expert_counts.assign(static_cast<size_t>(e.n_routed_experts), 0);
  return layer;
}

void TrainModel::build() {
  const ModelConfig& c = config_;
  eps_ = static_cast<float>(c.rms_norm_eps);
  embed_ = matrix(params_, "model.embed_tokens.weight", c.vocab_size, c.hidden_size);
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) layers_.push_back(build_layer(i));
  final_norm_ = norm(params_, "model.norm.weight", c.hidden_size, eps_);
  head_.in = c.hidden_size;
  head_.out = c.vocab_size;
  head_.w = c.tie_word_embeddings ? embed_ : matrix(params_, "lm_head.weight", c.vocab_size, c.hidden_size);
  if (c.num_nextn_predict_layers == 1) {
    const int64_t index = c.num_hidden_layers;
    const std::string p = "model.layers." + std::to_string(index);
    Mtp m;
    m.enorm = norm(params_, p + ".enorm.weight", c.hidden_size, eps_);
    m.hnorm = norm(params_, p + ".hnorm.weight", c.hidden_size, eps_);
    m.eh_proj = linear(params_, p + ".eh_proj", 2 * c.hidden_size, c.hidden_size);
    m.layer = build_layer(index);
    m.head_norm = norm(params_, p + ".shared_head.norm.weight", c.hidden_size, eps_);
    mtp_ = std::move(m);
  }
  // Pointers into layers_ (Moe::cfg) stay valid: the vector is complete now.
}

void TrainModel::init_random(uint64_t seed, float init_std) {
  Rng rng(seed);
  const double depth_scale = 1.0 / std::sqrt(2.0 * static_cast<double>(std::max<int64_t>(1, config_.num_hidden_layers)));
  for (Param* p : params_.all()) {
    const std::string& n = p->name;
    const bool is_norm = n.find("norm.weight") != std::string::npos || n.find("layernorm.weight") != std::string::npos;
    if (!p->trainable || p->shape.size() == 1) {
      std::fill(p->value.begin(), p->value.end(), is_norm ? 1.0f : 0.0f);
      continue;
    }
    const bool output = n.find(".o_proj.") != std::string::npos || n.find(".down_proj.") != std::string::npos;
    const double std = init_std * (output ? depth_scale : 1.0);
    for (float& v : p->value) v = static_cast<float>(rng.normal() * std);
  }
}

const RopeTable& TrainModel::rope_table(int64_t seq_len) {
  auto it = rope_tables_.find(seq_len);
  if (it != rope_tables_.end()) return it->second;
  const ModelConfig& c = config_;
  const int64_t dim = c.uses_mla() ? c.mla.qk_rope_head_dim : c.head_dim;
  RopeFrequencies f = make_rope_frequencies(dim, c.rope_theta, c.rope_scaling);
  RopeTable t;
  t.pairs = f.n_pairs();
  std::vector<int64_t> positions(static_cast<size_t>(seq_len));
  for (int64_t i = 0; i < seq_len; ++i) positions[i] = i;
  t.cos.resize(static_cast<size_t>(seq_len * t.pairs));
  t.sin.resize(t.cos.size());
  f.fill(positions.data(), seq_len, t.cos.data(), t.sin.data());
  t.neg_sin.resize(t.sin.size());
  for (size_t i = 0; i < t.sin.size(); ++i) t.neg_sin[i] = -t.sin[i];
  return rope_tables_.emplace(seq_len, std::move(t)).first->second;
}

std::vector<DecoderLayer*> TrainModel::moe_layers() {
  std::vector<DecoderLayer*> out;
  for (auto& l : layers_)
    if (l.is_moe) out.push_back(&l);
  if (mtp_ && mtp_->layer.is_moe) out.push_back(&mtp_->layer);
  return out;
}

void TrainModel::reset_expert_counts() {
  for (DecoderLayer* l : moe_layers()) std::fill(l->expert_counts.begin(), l->expert_counts.end(), 0);
}

void TrainModel::note_nonfinite(const float* x, int64_t n, const std::string& where) {
  if (nonfinite_.empty() && !all_finite(x, n)) nonfinite_ = where;
}

void TrainModel::forward(ThreadPool& pool, const int32_t* tokens, int64_t n_seq, int64_t seq_len, bool with_mtp,
                         Pass& p) {
  const ModelConfig& c = config_;
  const int64_t hidden = c.hidden_size, vocab = c.vocab_size;
  nonfinite_.clear();
  p.shape = {n_seq, seq_len};
  const int64_t n = p.shape.rows();
  const RopeTable& rope = rope_table(seq_len);
  p.targets.resize(static_cast<size_t>(n));
  Buffer h(static_cast<size_t>(n * hidden));
  for (int64_t q = 0; q < n_seq; ++q)
    for (int64_t t = 0; t < seq_len; ++t) {
      const int64_t r = q * seq_len + t;
      std::memcpy(h.data() + r * hidden, embed_->data() + static_cast<int64_t>(tokens[q * (seq_len + 1) + t]) * hidden,
                  sizeof(float) * hidden);
      p.targets[r] = tokens[q * (seq_len + 1) + t + 1];
    }
  note_nonfinite(h.data(), n * hidden, "model.embed_tokens");
  p.layers.resize(layers_.size());
  p.balance = 0.0;
  for (size_t l = 0; l < layers_.size(); ++l) {
    p.balance += decoder_forward(pool, layers_[l], p.shape, rope, h.data(), p.layers[l], weights_.balance_alpha);
    const std::string where = "layer " + std::to_string(l);
    note_nonfinite(p.layers[l].h_mid.data(), n * hidden, where + " attention");
    note_nonfinite(h.data(), n * hidden, where + " feed-forward");
  }
  p.h_last = std::move(h);
  p.hf.resize(p.h_last.size());
  norm_forward(final_norm_, p.h_last.data(), n, p.hf.data(), p.final_saved);
  p.logits.resize(static_cast<size_t>(n * vocab));
  head_.forward(pool, p.hf.data(), n, p.logits.data());
  note_nonfinite(p.logits.data(), n * vocab, "model.norm / lm_head logits");

  if (!with_mtp || !mtp_ || seq_len < 2) return;
  Mtp& m = *mtp_;
  p.mtp_shape = {n_seq, seq_len - 1};
  const int64_t n2 = p.mtp_shape.rows();
  p.mtp_inputs.resize(static_cast<size_t>(n2));
  p.mtp_targets.resize(static_cast<size_t>(n2));
  p.e.resize(static_cast<size_t>(n2 * hidden));
  p.hm.resize(p.e.size());
  for (int64_t q = 0; q < n_seq; ++q)
    for (int64_t t = 0; t + 1 < seq_len; ++t) {
      const int64_t r = q * (seq_len - 1) + t;
      p.mtp_inputs[r] = tokens[q * (seq_len + 1) + t + 1];
      p.mtp_targets[r] = tokens[q * (seq_len + 1) + t + 2];
      std::memcpy(p.e.data() + r * hidden, embed_->data() + static_cast<int64_t>(p.mtp_inputs[r]) * hidden,
                  sizeof(float) * hidden);
      std::memcpy(p.hm.data() + r * hidden, p.h_last.data() + (q * seq_len + t) * hidden, sizeof(float) * hidden);
    }
  p.en.resize(p.e.size());
  p.hn.resize(p.e.size());
  norm_forward(m.enorm, p.e.data(), n2, p.en.data(), p.e_saved);
  norm_forward(m.hnorm, p.hm.data(), n2, p.hn.data(), p.hm_saved);
  p.a.resize(static_cast<size_t>(n2 * 2 * hidden));
  for (int64_t r = 0; r < n2; ++r) {
    std::memcpy(p.a.data() + r * 2 * hidden, p.en.data() + r * hidden, sizeof(float) * hidden);
    std::memcpy(p.a.data() + r * 2 * hidden + hidden, p.hn.data() + r * hidden, sizeof(float) * hidden);
  }
  p.h2.resize(p.e.size());
  m.eh_proj.forward(pool, p.a.data(), n2, p.h2.data());
  const RopeTable& rope2 = rope_table(seq_len - 1);
  const std::string where = "MTP layer " + std::to_string(m.layer.index);
  p.balance += decoder_forward(pool, m.layer, p.mtp_shape, rope2, p.h2.data(), p.mtp_layer, weights_.balance_alpha);
  note_nonfinite(p.mtp_layer.h_in.data(), n2 * hidden, where + " eh_proj");
  note_nonfinite(p.mtp_layer.h_mid.data(), n2 * hidden, where + " attention");
  note_nonfinite(p.h2.data(), n2 * hidden, where + " feed-forward");
  p.h2n.resize(p.h2.size());
  norm_forward(m.head_norm, p.h2.data(), n2, p.h2n.data(), p.h2_saved);
  p.mtp_logits.resize(static_cast<size_t>(n2 * vocab));
  head_.forward(pool, p.h2n.data(), n2, p.mtp_logits.data());
  note_nonfinite(p.mtp_logits.data(), n2 * vocab, where + " shared_head logits");
}

Losses TrainModel::evaluate(ThreadPool& pool, const int32_t* tokens, int64_t n_seq, int64_t seq_len, bool with_mtp) {
  Pass p;
  forward(pool, tokens, n_seq, seq_len, with_mtp && weights_.mtp_lambda > 0.0f, p);
  Losses out;
  const int64_t n = p.shape.rows();
  out.main = cross_entropy_loss(pool, p.logits.data(), p.targets.data(), n, config_.vocab_size) / static_cast<double>(n);
  out.balance = p.balance;
  if (!p.mtp_logits.empty()) {
    const int64_t n2 = p.mtp_shape.rows();
    out.mtp = cross_entropy_loss(pool, p.mtp_logits.data(), p.mtp_targets.data(), n2, config_.vocab_size) /
              static_cast<double>(n2);
  }
  return out;
}

void TrainModel::logits(ThreadPool& pool, const int32_t* tokens, int64_t n, float* out) {
  std::vector<int32_t> padded(tokens, tokens + n);
  padded.push_back(0);  // a target for the last position; its loss is not used
  Pass p;
  forward(pool, padded.data(), 1, n, false, p);
  std::memcpy(out, p.logits.data(), sizeof(float) * p.logits.size());
}

Losses TrainModel::forward_backward(ThreadPool& pool, const int32_t* tokens, int64_t n_seq, int64_t seq_len,
                                    float grad_scale) {
  const ModelConfig& c = config_;
  const int64_t hidden = c.hidden_size, vocab = c.vocab_size;
  const bool with_mtp = mtp_ && weights_.mtp_lambda > 0.0f && seq_len >= 2;
  Pass p;
  forward(pool, tokens, n_seq, seq_len, with_mtp, p);
  const int64_t n = p.shape.rows();
  Losses out;
  out.balance = p.balance;
  out.main = cross_entropy(pool, p.logits.data(), p.targets.data(), n, vocab, grad_scale / static_cast<float>(n)) /
             static_cast<double>(n);
  const float balance_scale = weights_.balance_alpha * grad_scale;

  // Head: dlogits -> dhf (and lm_head's gradient); then model.norm.
  Buffer dhf(p.hf.size());
  head_.backward(pool, p.hf.data(), p.logits.data(), n, dhf.data(), false);
  Buffer dh(p.h_last.size());
  norm_backward(final_norm_, p.h_last.data(), p.final_saved, dhf.data(), n, dh.data(), false);

  if (with_mtp) {
    Mtp& m = *mtp_;
    const int64_t n2 = p.mtp_shape.rows();
    out.mtp = cross_entropy(pool, p.mtp_logits.data(), p.mtp_targets.data(), n2, vocab,
                            weights_.mtp_lambda * grad_scale / static_cast<float>(n2)) /
              static_cast<double>(n2);
    Buffer dh2n(p.h2n.size()), dh2(p.h2.size());
    head_.backward(pool, p.h2n.data(), p.mtp_logits.data(), n2, dh2n.data(), false);
    norm_backward(m.head_norm, p.h2.data(), p.h2_saved, dh2n.data(), n2, dh2.data(), false);
    decoder_backward(pool, m.layer, p.mtp_shape, rope_table(seq_len - 1), p.mtp_layer, dh2.data(), balance_scale);
    Buffer da(p.a.size());
    m.eh_proj.backward(pool, p.a.data(), dh2.data(), n2, da.data(), false);
    Buffer den(p.e.size()), dhn(p.e.size()), de(p.e.size()), dhm(p.e.size());
    for (int64_t r = 0; r < n2; ++r) {
      std::memcpy(den.data() + r * hidden, da.data() + r * 2 * hidden, sizeof(float) * hidden);
      std::memcpy(dhn.data() + r * hidden, da.data() + r * 2 * hidden + hidden, sizeof(float) * hidden);
    }
    norm_backward(m.enorm, p.e.data(), p.e_saved, den.data(), n2, de.data(), false);
    norm_backward(m.hnorm, p.hm.data(), p.hm_saved, dhn.data(), n2, dhm.data(), false);
    float* dembed = embed_->g();
    for (int64_t q = 0; q < n_seq; ++q)
      for (int64_t t = 0; t + 1 < seq_len; ++t) {
        const int64_t r = q * (seq_len - 1) + t;
        float* dst = dembed + static_cast<int64_t>(p.mtp_inputs[r]) * hidden;
        float* dst_h = dh.data() + (q * seq_len + t) * hidden;
        for (int64_t j = 0; j < hidden; ++j) {
          dst[j] += de[r * hidden + j];
          dst_h[j] += dhm[r * hidden + j];
        }
      }
  }

  const RopeTable& rope = rope_table(seq_len);
  for (size_t l = layers_.size(); l-- > 0;)
    decoder_backward(pool, layers_[l], p.shape, rope, p.layers[l], dh.data(), balance_scale);
  float* dembed = embed_->g();
  for (int64_t q = 0; q < n_seq; ++q)
    for (int64_t t = 0; t < seq_len; ++t) {
      const int64_t r = q * seq_len + t;
      float* dst = dembed + static_cast<int64_t>(tokens[q * (seq_len + 1) + t]) * hidden;
      for (int64_t j = 0; j < hidden; ++j) dst[j] += dh[r * hidden + j];
    }
  return out;
}

}  // namespace dseek::train
