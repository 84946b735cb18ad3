// Hugging Face llama/qwen2 layout: q/k/v/o_proj (qwen2: biases on q, k, v;
// llama: optional biases on all four), RoPE in the "rotate_half" form that HF
// checkpoints are stored for (or on adjacent pairs for llama GGUF files,
// whose q/k rows llama.cpp's converter permuted), SwiGLU MLP.
#include "model/dense.h"

#include <cmath>
#include <cstring>

#include "kernels/ops.h"
#include "model/blocks.h"
#include "model/transformer.h"

namespace dseek {

namespace {

struct Projection {
  Tensor weight;
  std::vector<float> bias;  // empty: none
};

struct Layer {
  Projection q, k, v, o;
  SwiGlu mlp;
};

class DenseModel : public TransformerModel {
 public:
  DenseModel(ModelConfig config, WeightStore weights, const LoadOptions& options)
      : TransformerModel(std::move(config), std::move(weights), options) {}

  Status load() {
    const ModelConfig& c = config_;
    DSEEK_TRY(load_common());
    const int64_t q_dim = c.num_attention_heads * c.head_dim;
    const int64_t kv_dim = c.num_key_value_heads * c.head_dim;
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
      const std::string p = "model.layers." + std::to_string(i);
      Layer layer;
      struct Spec {
        Projection* out;
        const char* name;
        int64_t rows, cols;
        bool bias;
      };
      const bool qkv_bias = c.qkv_bias || c.attention_bias;
      for (const Spec& s : {Spec{&layer.q, "q_proj", q_dim, c.hidden_size, qkv_bias},
                            Spec{&layer.k, "k_proj", kv_dim, c.hidden_size, qkv_bias},
                            Spec{&layer.v, "v_proj", kv_dim, c.hidden_size, qkv_bias},
                            Spec{&layer.o, "o_proj", c.hidden_size, q_dim, c.attention_bias}}) {
        const std::string name = p + ".self_attn." + s.name;
        auto w = take_matrix(weights_, c, name, s.rows, s.cols);
        if (!w) return w.error();
        s.out->weight = w.value();
        pack_for_batches(s.out->weight);
        if (s.bias) {
          auto b = take_vector(weights_, name + ".bias", s.rows);
          if (!b) return b.error();
          s.out->bias = std::move(b.value());
        }
      }
      auto mlp = SwiGlu::load(weights_, c, p + ".mlp", c.hidden_size, c.intermediate_size);
      if (!mlp) return mlp.error();
      layer.mlp = mlp.value();
      for (Tensor* t : {&layer.mlp.gate_proj, &layer.mlp.up_proj, &layer.mlp.down_proj}) pack_for_batches(*t);
      layers_.push_back(std::move(layer));
    }
    warn_unused_tensors();
    rope_ = make_rope_frequencies(c.head_dim, c.rope_theta, c.rope_scaling);
    return ok_status();
  }

  KvCacheShape kv_cache_shape() const override {
    const int64_t kv_dim = config_.num_key_value_heads * config_.head_dim;
    return {config_.num_hidden_layers, kv_dim, kv_dim, kv_cache_type_};
  }

 protected:
  void project(const Projection& p, const float* x, int64_t n, float* y) {
    ops::matmul(pool_, p.weight, x, n, y);
    if (p.bias.empty()) return;
    const int64_t rows = p.weight.rows();
    for (int64_t t = 0; t < n; ++t)
      for (int64_t i = 0; i < rows; ++i) y[t * rows + i] += p.bias[i];
  }

  void attention(int64_t layer_index, const ForwardBatch& batch, const float* x, float* out) override {
    const ModelConfig& c = config_;
    const Layer& layer = layers_[layer_index];
    const int64_t n = batch.n_rows;
    const int64_t hd = c.head_dim;
    const int64_t heads = c.num_attention_heads, kv_heads = c.num_key_value_heads;
    std::vector<float> q(static_cast<size_t>(n * heads * hd)), k(static_cast<size_t>(n * kv_heads * hd)),
        v(static_cast<size_t>(n * kv_heads * hd));
    project(layer.q, x, n, q.data());
    project(layer.k, x, n, k.data());
    project(layer.v, x, n, v.data());
    const int64_t pairs = hd / 2;
    const auto style = c.rope_adjacent_pairs ? kernels::RopeStyle::kInterleaved : kernels::RopeStyle::kHalfSplit;
    for (int64_t r = 0; r < n; ++r) {
      const float* cos = batch.rope_cos.data() + r * pairs;
      const float* sin = batch.rope_sin.data() + r * pairs;
      for (int64_t h = 0; h < heads; ++h)
        ops::rope(q.data() + (r * heads + h) * hd, pairs, cos, sin, style);
      for (int64_t h = 0; h < kv_heads; ++h)
        ops::rope(k.data() + (r * kv_heads + h) * hd, pairs, cos, sin, style);
    }
    const int64_t kv_dim = kv_heads * hd;
    std::vector<float> o(static_cast<size_t>(n * heads * hd));
    for (const auto& s : batch.sequences) {
      for (int64_t i = 0; i < s.n_rows; ++i) {
        s.cache->write_k(layer_index, s.first_pos + i, k.data() + (s.first_row + i) * kv_dim);
        s.cache->write_v(layer_index, s.first_pos + i, v.data() + (s.first_row + i) * kv_dim);
      }
      kernels::AttentionArgs args;
      args.n_tokens = s.n_rows;
      args.n_heads = heads;
      args.n_kv_heads = kv_heads;
      args.head_dim_k = hd;
      args.head_dim_v = hd;
      args.q = q.data() + s.first_row * heads * hd;
      args.q_token_stride = heads * hd;
      args.q_head_stride = hd;
      args.k = s.cache->k_data(layer_index);
      args.k_token_stride = kv_dim;
      args.k_head_stride = hd;
      args.kv_type = s.cache->type();
      args.v = s.cache->v_data(layer_index);
      args.v_token_stride = kv_dim;
      args.v_head_stride = hd;
      args.n_keys = s.first_pos + s.n_rows;
      args.q_pos = batch.positions.data() + s.first_row;
      args.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd)));
      args.out = o.data() + s.first_row * heads * hd;
      args.out_token_stride = heads * hd;
      args.out_head_stride = hd;
      ops::attention(pool_, args);
    }
    project(layer.o, o.data(), n, out);
  }

  void feed_forward(int64_t layer_index, const ForwardBatch& batch, const float* x, float* out) override {
    layers_[layer_index].mlp.forward(pool_, x, batch.n_rows, out);
  }

 private:
  std::vector<Layer> layers_;
};

}  // namespace

Result<std::unique_ptr<Model>> load_dense(ModelConfig config, WeightStore weights, const LoadOptions& options) {
  auto model = std::make_unique<DenseModel>(std::move(config), std::move(weights), options);
  DSEEK_TRY(model->load());
  return std::unique_ptr<Model>(std::move(model));
}

}  // namespace dseek
