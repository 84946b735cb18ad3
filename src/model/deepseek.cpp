// Notation follows the DeepSeek-V2 paper and the published configs:
//   q      = q_proj(x)                               (q_lora_rank null, V2-Lite)
//          | q_b_proj(q_a_layernorm(q_a_proj(x)))    (otherwise)
//   [c | k_pe] = kv_a_proj_with_mqa(x);  c <- kv_a_layernorm(c)
//   per head: q = [q_nope | q_pe], kv_b_proj(c) = [k_nope | v]
//   k_pe is ONE rotated key shared by all heads; RoPE rotates adjacent pairs.
// The absorbed path never materialises k_nope or v: with W_uk, W_uv the two
// halves of kv_b_proj for a head, q_nope . k_nope = (W_uk^T q_nope) . c and
// P . v = W_uv (P . c), so the cache holds only [c | k_pe] per token.
#include "model/deepseek.h"

#include <cmath>
#include <cstdio>
#include <cstring>

#include "kernels/ops.h"
#include "model/blocks.h"
#include "model/moe_gate.h"
#include "model/transformer.h"

namespace dseek {

namespace {

struct Mla {
  Tensor q_proj;  // when q_lora_rank is 0
  Tensor q_a_proj, q_b_proj;
  std::vector<float> q_a_layernorm;
  Tensor kv_a_proj_with_mqa;
  std::vector<float> kv_a_layernorm;
  Tensor kv_b_proj;  // [heads * (nope + v), kv_lora]
  // llama.cpp's split layout of kv_b_proj (GGUF attn_k_b / attn_v_b), viewed
  // as 2-D: k_b_proj [heads * kv_lora, nope] holds W_uk transposed per head,
  // v_b_proj [heads * v, kv_lora] holds W_uv.
  bool split_kv_b = false;
  Tensor k_b_proj, v_b_proj;
  // Per-head views of them (absorbed path): W_uk^T and W_uv of head h.
  std::vector<Tensor> w_uk_t, w_uv;
  Tensor o_proj;
};

struct Moe {
  Tensor gate;                                 // router [n_routed, hidden]
  std::vector<float> e_score_correction_bias;  // V3 only
  std::vector<SwiGlu> experts;
  SwiGlu shared_experts;
  bool has_shared = false;
};

struct Layer {
  Mla attn;
  bool is_moe = false;
  SwiGlu mlp;  // dense layers
  Moe moe;
};

// DeepSeek-V3's multi-token-prediction module (layer index num_hidden_layers
// and up). Loaded and checked so that speculative decoding can use it;
// plain decoding does not.
struct MtpModule {
  Tensor embed_tokens, eh_proj, head;
  std::vector<float> enorm, hnorm, head_norm, input_norm, post_attention_norm;
  Layer layer;
};

// A per-head stack [heads, rows, cols] of a computable type, as a 2-D view
// [heads * rows, cols] whose row ranges are the heads.
Result<Tensor> take_head_stack(WeightStore& w, const std::string& name, int64_t heads, int64_t rows, int64_t cols) {
  auto t = w.take(name);
  if (!t) return t.error();
  if (auto ok = expect_shape(t.value(), {heads, rows, cols}); !ok) return ok.error().within(w.description());
  if (!dtype_info(t->dtype).computable || t->dtype == DType::F8_E4M3)
    return Error{w.description() + ": tensor " + name + " has dtype " + std::string(dtype_info(t->dtype).name) +
                 ", which is not a weight type here"};
  Tensor flat = t.value();
  flat.rank = 2;
  flat.shape = {heads * rows, cols, 0, 0};
  return flat;
}

Result<Mla> load_mla(WeightStore& w, const ModelConfig& c, const std::string& p) {
  Mla a;
  const MlaConfig& m = c.mla;
  const int64_t q_dim = c.num_attention_heads * (m.qk_nope_head_dim + m.qk_rope_head_dim);
  if (m.q_lora_rank == 0) {
    auto q = take_matrix(w, c, p + ".q_proj", q_dim, c.hidden_size);
    if (!q) return q.error();
    a.q_proj = q.value();
  } else {
    auto qa = take_matrix(w, c, p + ".q_a_proj", m.q_lora_rank, c.hidden_size);
    if (!qa) return qa.error();
    auto qn = take_vector(w, p + ".q_a_layernorm.weight", m.q_lora_rank);
    if (!qn) return qn.error();
    auto qb = take_matrix(w, c, p + ".q_b_proj", q_dim, m.q_lora_rank);
    if (!qb) return qb.error();
    a.q_a_proj = qa.value();
    a.q_a_layernorm = std::move(qn.value());
    a.q_b_proj = qb.value();
  }
  auto kva = take_matrix(w, c, p + ".kv_a_proj_with_mqa", m.kv_lora_rank + m.qk_rope_head_dim, c.hidden_size);
  if (!kva) return kva.error();
  auto kvn = take_vector(w, p + ".kv_a_layernorm.weight", m.kv_lora_rank);
  if (!kvn) return kvn.error();
  const int64_t heads = c.num_attention_heads;
  if (w.contains(p + ".k_b_proj.weight")) {
    auto kb = take_head_stack(w, p + ".k_b_proj.weight", heads, m.kv_lora_rank, m.qk_nope_head_dim);
    if (!kb) return kb.error();
    auto vb = take_head_stack(w, p + ".v_b_proj.weight", heads, m.v_head_dim, m.kv_lora_rank);
    if (!vb) return vb.error();
    a.split_kv_b = true;
    a.k_b_proj = kb.value();
    a.v_b_proj = vb.value();
    for (int64_t h = 0; h < heads; ++h) {
      a.w_uk_t.push_back(a.k_b_proj.row_range(h * m.kv_lora_rank, (h + 1) * m.kv_lora_rank));
      a.w_uv.push_back(a.v_b_proj.row_range(h * m.v_head_dim, (h + 1) * m.v_head_dim));
    }
  } else {
    auto kvb = take_matrix(w, c, p + ".kv_b_proj", heads * (m.qk_nope_head_dim + m.v_head_dim), m.kv_lora_rank);
    if (!kvb) return kvb.error();
    a.kv_b_proj = kvb.value();
    const int64_t kv_b_head = m.qk_nope_head_dim + m.v_head_dim;
    for (int64_t h = 0; h < heads; ++h)
      a.w_uv.push_back(a.kv_b_proj.row_range(h * kv_b_head + m.qk_nope_head_dim, (h + 1) * kv_b_head));
  }
  auto o = take_matrix(w, c, p + ".o_proj", c.hidden_size, heads * m.v_head_dim);
  if (!o) return o.error();
  a.kv_a_proj_with_mqa = kva.value();
  a.kv_a_layernorm = std::move(kvn.value());
  a.o_proj = o.value();
  return a;
}

Result<Layer> load_layer(WeightStore& w, const ModelConfig& c, int64_t index) {
  const std::string p = "model.layers." + std::to_string(index);
  Layer layer;
  auto attn = load_mla(w, c, p + ".self_attn");
  if (!attn) return attn.error();
  layer.attn = std::move(attn.value());
  layer.is_moe = c.is_moe_layer(index);
  if (!layer.is_moe) {
    auto mlp = SwiGlu::load(w, c, p + ".mlp", c.hidden_size, c.intermediate_size);
    if (!mlp) return mlp.error();
    layer.mlp = mlp.value();
    return layer;
  }
  const MoeConfig& e = c.moe;
  auto gate = take_matrix(w, c, p + ".mlp.gate", e.n_routed_experts, c.hidden_size);
  if (!gate) return gate.error();
  if (gate->dtype == DType::F8_E4M3) return Error{w.description() + ": router " + gate->name + " must not be fp8"};
  layer.moe.gate = gate.value();
  const std::string bias_name = p + ".mlp.gate.e_score_correction_bias";
  if (e.topk_method == TopkMethod::kNoauxTc) {
    auto bias = take_vector(w, bias_name, e.n_routed_experts);
    if (!bias) return bias.error();
    layer.moe.e_score_correction_bias = std::move(bias.value());
  } else if (w.contains(bias_name)) {
    return Error{w.description() + ": " + bias_name + " is present but topk_method is not noaux_tc"};
  }
  for (int64_t x = 0; x < e.n_routed_experts; ++x) {
    auto expert = SwiGlu::load(w, c, p + ".mlp.experts." + std::to_string(x), c.hidden_size, e.moe_intermediate_size);
    if (!expert) return expert.error();
    layer.moe.experts.push_back(expert.value());
  }
  if (e.n_shared_experts > 0) {
    auto shared = SwiGlu::load(w, c, p + ".mlp.shared_experts", c.hidden_size,
                               e.n_shared_experts * e.moe_intermediate_size);
    if (!shared) return shared.error();
    layer.moe.shared_experts = shared.value();
    layer.moe.has_shared = true;
  }
  return layer;
}

Result<MtpModule> load_mtp(WeightStore& w, const ModelConfig& c, int64_t index) {
  const std::string p = "model.layers." + std::to_string(index);
  MtpModule m;
  auto eh = take_matrix(w, c, p + ".eh_proj", c.hidden_size, 2 * c.hidden_size);
  if (!eh) return eh.error();
  m.eh_proj = eh.value();
  for (auto [field, name] : {std::pair{&m.enorm, ".enorm.weight"}, {&m.hnorm, ".hnorm.weight"},
                             {&m.head_norm, ".shared_head.norm.weight"}, {&m.input_norm, ".input_layernorm.weight"},
                             {&m.post_attention_norm, ".post_attention_layernorm.weight"}}) {
    auto v = take_vector(w, p + name, c.hidden_size);
    if (!v) return v.error();
    *field = std::move(v.value());
  }
  // DeepSeek-V3 ships copies of the embedding and head inside the module.
  if (w.contains(p + ".embed_tokens.weight")) {
    auto e = take_matrix(w, c, p + ".embed_tokens", c.vocab_size, c.hidden_size);
    if (!e) return e.error();
    m.embed_tokens = e.value();
  }
  if (w.contains(p + ".shared_head.head.weight")) {
    auto h = take_matrix(w, c, p + ".shared_head.head", c.vocab_size, c.hidden_size);
    if (!h) return h.error();
    m.head = h.value();
  }
  auto layer = load_layer(w, c, index);
  if (!layer) return layer.error();
  m.layer = std::move(layer.value());
  return m;
}

class DeepseekModel : public TransformerModel {
 public:
  DeepseekModel(ModelConfig config, WeightStore weights, const LoadOptions& options)
      : TransformerModel(std::move(config), std::move(weights), options),
        mode_(options.mla_mode) {}

  Status load() {
    const ModelConfig& c = config_;
    DSEEK_TRY(load_common());
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
      auto layer = load_layer(weights_, c, i);
      if (!layer) return layer.error();
      pack_dense_weights(layer.value());
      layers_.push_back(std::move(layer.value()));
    }
    for (int64_t m = 0; m < c.num_nextn_predict_layers; ++m) {
      const int64_t index = c.num_hidden_layers + m;
      const std::string prefix = "model.layers." + std::to_string(index) + ".";
      bool present = false;
      for (const auto& [name, t] : weights_.all()) present = present || name.rfind(prefix, 0) == 0;
      if (!present) {
        // Some re-exports drop the module; the main model still runs.
        std::fprintf(stderr, "dseek: note: num_nextn_predict_layers is %lld but layer %lld (MTP) is absent\n",
                     static_cast<long long>(c.num_nextn_predict_layers), static_cast<long long>(index));
        break;
      }
      auto mtp = load_mtp(weights_, c, index);
      if (!mtp) return mtp.error();
      mtp_.push_back(std::move(mtp.value()));
    }
    warn_unused_tensors();
    rope_ = make_rope_frequencies(c.mla.qk_rope_head_dim, c.rope_theta, c.rope_scaling);
    const double q_head_dim = static_cast<double>(c.mla.qk_nope_head_dim + c.mla.qk_rope_head_dim);
    softmax_scale_ = static_cast<float>(yarn_softmax_scale_factor(c.rope_scaling) / std::sqrt(q_head_dim));
    return ok_status();
  }

  KvCacheShape kv_cache_shape() const override {
    const MlaConfig& m = config_.mla;
    const int64_t heads = config_.num_attention_heads;
    if (mode_ == MlaMode::kAbsorbed)
      return {config_.num_hidden_layers, m.kv_lora_rank + m.qk_rope_head_dim, 0, kv_cache_type_};
    return {config_.num_hidden_layers, heads * (m.qk_nope_head_dim + m.qk_rope_head_dim), heads * m.v_head_dim,
            kv_cache_type_};
  }

 protected:
  void attention(int64_t layer_index, const ForwardBatch& batch, const float* x, float* out) override;
  void feed_forward(int64_t layer_index, const ForwardBatch& batch, const float* x, float* out) override;

 private:
  // The new tokens' queries (q_pe rotated) and their [c | k_pe] rows (c
  // normalised, k_pe rotated).
  void project(const Mla& a, const ForwardBatch& batch, const float* x, std::vector<float>& q,
               std::vector<float>& latent);
  void attention_absorbed(int64_t layer_index, const ForwardBatch& batch, const std::vector<float>& q,
                          const std::vector<float>& latent, std::vector<float>& o);
  void attention_naive(int64_t layer_index, const ForwardBatch& batch, const std::vector<float>& q,
                       const std::vector<float>& latent, std::vector<float>& o);
  void moe(const Moe& m, const float* x, int64_t n_rows, float* out);
  // Packs what every token of a batch reads: attention, dense MLP, router
  // and shared experts; not the routed experts, each of which a decode step
  // gives only a few tokens.
  void pack_dense_weights(Layer& layer) {
    Mla& a = layer.attn;
    for (Tensor* t : {&a.q_proj, &a.q_a_proj, &a.q_b_proj, &a.kv_a_proj_with_mqa, &a.kv_b_proj, &a.o_proj})
      pack_for_batches(*t);
    for (SwiGlu* f : {&layer.mlp, &layer.moe.shared_experts})
      for (Tensor* t : {&f->gate_proj, &f->up_proj, &f->down_proj}) pack_for_batches(*t);
    pack_for_batches(layer.moe.gate);
  }

  MlaMode mode_;
  float softmax_scale_ = 1.0f;
  std::vector<Layer> layers_;
  std::vector<MtpModule> mtp_;
};

void DeepseekModel::project(const Mla& a, const ForwardBatch& batch, const float* x, std::vector<float>& q,
                            std::vector<float>& latent) {
  const ModelConfig& c = config_;
  const MlaConfig& m = c.mla;
  const int64_t n = batch.n_rows;
  const int64_t heads = c.num_attention_heads;
  const int64_t q_head = m.qk_nope_head_dim + m.qk_rope_head_dim;
  const float eps = static_cast<float>(c.rms_norm_eps);
  q.resize(static_cast<size_t>(n * heads * q_head));
  const int64_t latent_width = m.kv_lora_rank + m.qk_rope_head_dim;
  latent.resize(static_cast<size_t>(n * latent_width));
  const int64_t hidden = c.hidden_size;
  // The products that read x run in one loop (and share its quantized copy).
  if (m.q_lora_rank == 0) {
    const ops::MatmulJob jobs[] = {{&a.q_proj, x, n, hidden, q.data(), heads * q_head},
                                   {&a.kv_a_proj_with_mqa, x, n, hidden, latent.data(), latent_width}};
    ops::matmul_many(pool_, jobs);
  } else {
    std::vector<float> q_lora(static_cast<size_t>(n * m.q_lora_rank));
    const ops::MatmulJob jobs[] = {{&a.q_a_proj, x, n, hidden, q_lora.data(), m.q_lora_rank},
                                   {&a.kv_a_proj_with_mqa, x, n, hidden, latent.data(), latent_width}};
    ops::matmul_many(pool_, jobs);
    ops::rmsnorm(q_lora.data(), a.q_a_layernorm.data(), n, m.q_lora_rank, eps, q_lora.data());
    ops::matmul(pool_, a.q_b_proj, q_lora.data(), n, q.data());
  }
  const int64_t pairs = m.qk_rope_head_dim / 2;
  for (int64_t r = 0; r < n; ++r) {
    const float* cos = batch.rope_cos.data() + r * pairs;
    const float* sin = batch.rope_sin.data() + r * pairs;
    float* row = latent.data() + r * latent_width;
    ops::rmsnorm(row, a.kv_a_layernorm.data(), 1, m.kv_lora_rank, eps, row);
    ops::rope(row + m.kv_lora_rank, pairs, cos, sin, kernels::RopeStyle::kInterleaved);
    for (int64_t h = 0; h < heads; ++h)
      ops::rope(q.data() + (r * heads + h) * q_head + m.qk_nope_head_dim, pairs, cos, sin,
                kernels::RopeStyle::kInterleaved);
  }
}

void DeepseekModel::attention(int64_t layer_index, const ForwardBatch& batch, const float* x, float* out) {
  const Mla& a = layers_[layer_index].attn;
  std::vector<float> q, latent, o;
  project(a, batch, x, q, latent);
  if (mode_ == MlaMode::kAbsorbed) attention_absorbed(layer_index, batch, q, latent, o);
  else attention_naive(layer_index, batch, q, latent, o);
  ops::matmul(pool_, a.o_proj, o.data(), batch.n_rows, out);
}

void DeepseekModel::attention_absorbed(int64_t layer_index, const ForwardBatch& batch, const std::vector<float>& q,
                                       const std::vector<float>& latent, std::vector<float>& o) {
  const ModelConfig& c = config_;
  const MlaConfig& m = c.mla;
  const Mla& a = layers_[layer_index].attn;
  const int64_t n = batch.n_rows;
  const int64_t heads = c.num_attention_heads;
  const int64_t nope = m.qk_nope_head_dim, rope = m.qk_rope_head_dim, rank = m.kv_lora_rank;
  const int64_t q_head = nope + rope;
  const int64_t width = rank + rope;  // a cache row, and an absorbed query per head
  const int64_t kv_b_head = nope + m.v_head_dim;

  for (const auto& s : batch.sequences)
    for (int64_t i = 0; i < s.n_rows; ++i) s.cache->write_k(layer_index, s.first_pos + i, latent.data() + (s.first_row + i) * width);

  // Absorbed queries [n][heads][rank | rope]: W_uk^T q_nope, then q_pe.
  std::vector<float> q_abs(static_cast<size_t>(n * heads * width));
  if (a.split_kv_b) {
    // k_b holds W_uk^T per head: plain products, all heads in one loop.
    std::vector<ops::MatmulJob> jobs;
    for (int64_t h = 0; h < heads; ++h)
      jobs.push_back({&a.w_uk_t[h], q.data() + h * q_head, n, heads * q_head, q_abs.data() + h * width, heads * width});
    ops::matmul_many(pool_, jobs);
  }
  for (int64_t h = 0; h < heads; ++h) {
    if (!a.split_kv_b) {
      const Tensor w_uk = a.kv_b_proj.row_range(h * kv_b_head, h * kv_b_head + nope);
      ops::matmul_transposed(pool_, w_uk, q.data() + h * q_head, n, heads * q_head, q_abs.data() + h * width,
                             heads * width);
    }
    for (int64_t r = 0; r < n; ++r)
      std::memcpy(q_abs.data() + (r * heads + h) * width + rank, q.data() + (r * heads + h) * q_head + nope,
                  sizeof(float) * rope);
  }

  // Attention in latent space: one shared key/value row per token.
  std::vector<float> o_latent(static_cast<size_t>(n * heads * rank));
  for (const auto& s : batch.sequences) {
    kernels::AttentionArgs args;
    args.n_tokens = s.n_rows;
    args.n_heads = heads;
    args.n_kv_heads = 1;
    args.head_dim_k = width;
    args.head_dim_v = rank;
    args.q = q_abs.data() + s.first_row * heads * width;
    args.q_token_stride = heads * width;
    args.q_head_stride = width;
    args.k = s.cache->k_data(layer_index);
    args.k_token_stride = width;
    args.v = args.k;  // the first `rank` values of a row are c
    args.v_token_stride = width;
    args.kv_type = s.cache->type();
    args.n_keys = s.first_pos + s.n_rows;
    args.q_pos = batch.positions.data() + s.first_row;
    args.scale = softmax_scale_;
    args.out = o_latent.data() + s.first_row * heads * rank;
    args.out_token_stride = heads * rank;
    args.out_head_stride = rank;
    ops::attention(pool_, args);
  }

  // Back from latent space: o_h = W_uv o_latent_h, all heads in one loop.
  o.resize(static_cast<size_t>(n * heads * m.v_head_dim));
  std::vector<ops::MatmulJob> jobs;
  for (int64_t h = 0; h < heads; ++h)
    jobs.push_back({&a.w_uv[h], o_latent.data() + h * rank, n, heads * rank, o.data() + h * m.v_head_dim,
                    heads * m.v_head_dim});
  ops::matmul_many(pool_, jobs);
}

void DeepseekModel::attention_naive(int64_t layer_index, const ForwardBatch& batch, const std::vector<float>& q,
                                    const std::vector<float>& latent, std::vector<float>& o) {
  const ModelConfig& c = config_;
  const MlaConfig& m = c.mla;
  const Mla& a = layers_[layer_index].attn;
  const int64_t n = batch.n_rows;
  const int64_t heads = c.num_attention_heads;
  const int64_t nope = m.qk_nope_head_dim, rope = m.qk_rope_head_dim, rank = m.kv_lora_rank, vd = m.v_head_dim;
  const int64_t q_head = nope + rope;
  const int64_t width = rank + rope;

  // Decompress: kv_b_proj(c) = per head [k_nope | v].
  std::vector<float> kv(static_cast<size_t>(n * heads * (nope + vd)));
  if (a.split_kv_b) {
    // k_nope = W_uk c, with k_b holding W_uk^T: the transposed product.
    for (int64_t h = 0; h < heads; ++h) {
      ops::matmul_transposed(pool_, a.k_b_proj.row_range(h * rank, (h + 1) * rank), latent.data(), n, width,
                             kv.data() + h * (nope + vd), heads * (nope + vd));
      ops::matmul(pool_, a.v_b_proj.row_range(h * vd, (h + 1) * vd), latent.data(), n, width,
                  kv.data() + h * (nope + vd) + nope, heads * (nope + vd));
    }
  } else {
    ops::matmul(pool_, a.kv_b_proj, latent.data(), n, width, kv.data(), heads * (nope + vd));
  }
  std::vector<float> k_row(static_cast<size_t>(heads * q_head)), v_row(static_cast<size_t>(heads * vd));
  for (const auto& s : batch.sequences) {
    for (int64_t i = 0; i < s.n_rows; ++i) {
      const int64_t r = s.first_row + i;
      for (int64_t h = 0; h < heads; ++h) {
        const float* src = kv.data() + (r * heads + h) * (nope + vd);
        std::memcpy(k_row.data() + h * q_head, src, sizeof(float) * nope);
        std::memcpy(k_row.data() + h * q_head + nope, latent.data() + r * width + rank, sizeof(float) * rope);
        std::memcpy(v_row.data() + h * vd, src + nope, sizeof(float) * vd);
      }
      s.cache->write_k(layer_index, s.first_pos + i, k_row.data());
      s.cache->write_v(layer_index, s.first_pos + i, v_row.data());
    }
  }
  o.resize(static_cast<size_t>(n * heads * vd));
  for (const auto& s : batch.sequences) {
    kernels::AttentionArgs args;
    args.n_tokens = s.n_rows;
    args.n_heads = heads;
    args.n_kv_heads = heads;
    args.head_dim_k = q_head;
    args.head_dim_v = vd;
    args.q = q.data() + s.first_row * heads * q_head;
    args.q_token_stride = heads * q_head;
    args.q_head_stride = q_head;
    args.k = s.cache->k_data(layer_index);
    args.k_token_stride = heads * q_head;
    args.k_head_stride = q_head;
    args.kv_type = s.cache->type();
    args.v = s.cache->v_data(layer_index);
    args.v_token_stride = heads * vd;
    args.v_head_stride = vd;
    args.n_keys = s.first_pos + s.n_rows;
    args.q_pos = batch.positions.data() + s.first_row;
    args.scale = softmax_scale_;
    args.out = o.data() + s.first_row * heads * vd;
    args.out_token_stride = heads * vd;
    args.out_head_stride = vd;
    ops::attention(pool_, args);
  }
}

void DeepseekModel::feed_forward(int64_t layer_index, const ForwardBatch& batch, const float* x, float* out) {
  const Layer& layer = layers_[layer_index];
  if (layer.is_moe) moe(layer.moe, x, batch.n_rows, out);
  else layer.mlp.forward(pool_, x, batch.n_rows, out);
}

// Routes every token, then runs every expert that has tokens on all of them
// at once (a matrix-matrix product per expert): the gate and up products of
// all those experts and of the shared experts in ONE parallel loop over
// their rows, then all the down products in another, so that decoding (six
// experts of one token) keeps every thread busy. A token's output is its
// shared experts' output plus its routed experts' weighted outputs, added in
// ascending expert order whatever the batch: the same sums alone or batched.
void DeepseekModel::moe(const Moe& m, const float* x, int64_t n_rows, float* out) {
  const MoeConfig& e = config_.moe;
  const int64_t hidden = config_.hidden_size;
  const int64_t k = e.num_experts_per_tok;
  const int64_t inter = e.moe_intermediate_size;
  std::vector<float> logits(static_cast<size_t>(n_rows * e.n_routed_experts));
  ops::matmul(pool_, m.gate, x, n_rows, logits.data());
  std::vector<int32_t> chosen(static_cast<size_t>(n_rows * k));
  std::vector<float> weight(static_cast<size_t>(n_rows * k));
  RouteScratch scratch;
  const float* bias = m.e_score_correction_bias.empty() ? nullptr : m.e_score_correction_bias.data();
  for (int64_t r = 0; r < n_rows; ++r)
    route_token(e, logits.data() + r * e.n_routed_experts, bias, chosen.data() + r * k, weight.data() + r * k,
                scratch);

  // Rows of each expert, gathered expert after expert.
  std::vector<int64_t> first(static_cast<size_t>(e.n_routed_experts + 1), 0);
  for (int64_t i = 0; i < n_rows * k; ++i) first[chosen[i] + 1]++;
  for (int64_t x_ = 0; x_ < e.n_routed_experts; ++x_) first[x_ + 1] += first[x_];
  const int64_t total = first[e.n_routed_experts];
  std::vector<int64_t> row_of(static_cast<size_t>(total));
  std::vector<float> weight_of(static_cast<size_t>(total));
  {
    std::vector<int64_t> fill(first.begin(), first.end() - 1);
    for (int64_t r = 0; r < n_rows; ++r)
      for (int64_t i = 0; i < k; ++i) {
        const int64_t slot = fill[chosen[r * k + i]]++;
        row_of[slot] = r;
        weight_of[slot] = weight[r * k + i];
      }
  }
  std::vector<float> xs(static_cast<size_t>(total * hidden));
  for (int64_t s = 0; s < total; ++s) std::memcpy(xs.data() + s * hidden, x + row_of[s] * hidden, sizeof(float) * hidden);

  const int64_t shared_inter = m.has_shared ? m.shared_experts.intermediate() : 0;
  std::vector<float> gate(static_cast<size_t>(total * inter)), up(gate.size());
  std::vector<float> shared_gate(static_cast<size_t>(n_rows * shared_inter)), shared_up(shared_gate.size());
  std::vector<ops::MatmulJob> jobs;
  for (int64_t ex = 0; ex < e.n_routed_experts; ++ex) {
    const int64_t n = first[ex + 1] - first[ex];
    if (n == 0) continue;
    const SwiGlu& f = m.experts[ex];
    const float* xe = xs.data() + first[ex] * hidden;
    jobs.push_back({&f.gate_proj, xe, n, hidden, gate.data() + first[ex] * inter, inter});
    jobs.push_back({&f.up_proj, xe, n, hidden, up.data() + first[ex] * inter, inter});
  }
  if (m.has_shared) {
    jobs.push_back({&m.shared_experts.gate_proj, x, n_rows, hidden, shared_gate.data(), shared_inter});
    jobs.push_back({&m.shared_experts.up_proj, x, n_rows, hidden, shared_up.data(), shared_inter});
  }
  ops::matmul_many(pool_, jobs);
  ops::silu_mul(gate.data(), up.data(), total * inter, gate.data());
  if (m.has_shared) ops::silu_mul(shared_gate.data(), shared_up.data(), n_rows * shared_inter, shared_gate.data());

  std::vector<float> ys(static_cast<size_t>(total * hidden));
  jobs.clear();
  for (int64_t ex = 0; ex < e.n_routed_experts; ++ex) {
    const int64_t n = first[ex + 1] - first[ex];
    if (n == 0) continue;
    jobs.push_back({&m.experts[ex].down_proj, gate.data() + first[ex] * inter, n, inter, ys.data() + first[ex] * hidden,
                    hidden});
  }
  if (m.has_shared) jobs.push_back({&m.shared_experts.down_proj, shared_gate.data(), n_rows, shared_inter, out, hidden});
  else std::fill(out, out + n_rows * hidden, 0.0f);
  ops::matmul_many(pool_, jobs);

  // Slots are in ascending expert order: each token receives its experts'
  // outputs in that order.
  for (int64_t s = 0; s < total; ++s) {
    float* dst = out + row_of[s] * hidden;
    const float* src = ys.data() + s * hidden;
    const float w = weight_of[s];
    for (int64_t j = 0; j < hidden; ++j) dst[j] += w * src[j];
  }
}

}  // namespace

Result<std::unique_ptr<Model>> load_deepseek(ModelConfig config, WeightStore weights, const LoadOptions& options) {
  auto model = std::make_unique<DeepseekModel>(std::move(config), std::move(weights), options);
  DSEEK_TRY(model->load());
  return std::unique_ptr<Model>(std::move(model));
}

}  // namespace dseek
