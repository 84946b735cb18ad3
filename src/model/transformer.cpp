#include "model/transformer.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "kernels/ops.h"
#include "model/blocks.h"

namespace dseek {

Status TransformerModel::load_common() {
  const ModelConfig& c = config_;
  auto embed = take_matrix(weights_, c, "model.embed_tokens", c.vocab_size, c.hidden_size);
  if (!embed) return embed.error();
  embed_tokens_ = embed.value();
  if (c.tie_word_embeddings) {
    lm_head_ = embed_tokens_;
    if (weights_.contains("lm_head.weight")) {
      auto head = take_matrix(weights_, c, "lm_head", c.vocab_size, c.hidden_size);  // ignored copy
      if (!head) return head.error();
    }
  } else {
    auto head = take_matrix(weights_, c, "lm_head", c.vocab_size, c.hidden_size);
    if (!head) return head.error();
    lm_head_ = head.value();
  }
  auto norm = take_vector(weights_, "model.norm.weight", c.hidden_size);
  if (!norm) return norm.error();
  final_norm_ = std::move(norm.value());
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i);
    auto in = take_vector(weights_, p + ".input_layernorm.weight", c.hidden_size);
    if (!in) return in.error();
    auto post = take_vector(weights_, p + ".post_attention_layernorm.weight", c.hidden_size);
    if (!post) return post.error();
    input_norm_.push_back(std::move(in.value()));
    post_attention_norm_.push_back(std::move(post.value()));
  }
  pack_for_batches(lm_head_);
  return ok_status();
}

void TransformerModel::pack_for_batches(Tensor& w) {
  if (!pack_for_batches_ || !w.valid()) return;
  auto packed = ops::pack_for_batches(w);
  if (!packed) return;
  if (pack_budget_bytes_ > 0 && packed_weight_bytes() + packed->n_bytes > pack_budget_bytes_) {
    pack_for_batches_ = false;  // the budget is spent: the rest stays as the file has it
    return;
  }
  w.packed = packed.get();
  packed_.push_back(std::move(packed));
}

void TransformerModel::warn_unused_tensors() const {
  int shown = 0;
  for (const std::string& name : weights_.unused_names()) {
    // Old checkpoints carry RoPE buffers that are recomputed, not loaded.
    if (name.size() > 21 && name.compare(name.size() - 21, 21, ".rotary_emb.inv_freq") == 0) continue;
    if (shown++ < 5) std::fprintf(stderr, "dseek: warning: %s: tensor '%s' is not used\n", weights_.description().c_str(), name.c_str());
  }
  if (shown > 5) std::fprintf(stderr, "dseek: warning: ... and %d more unused tensors\n", shown - 5);
}

Status TransformerModel::forward(std::span<SequenceInput> inputs) {
  const ModelConfig& c = config_;
  const int64_t hidden = c.hidden_size;
  ForwardBatch batch;
  std::vector<int32_t> tokens;
  for (const SequenceInput& in : inputs) {
    if (!in.cache || in.tokens.empty() || !in.logits) return Error{"forward: a sequence has no cache, tokens or logits buffer"};
    for (const auto& earlier : batch.sequences)
      if (earlier.cache == in.cache) return Error{"forward: two sequences of one batch share a KV cache"};
    const KvCacheShape& shape = in.cache->shape();
    const KvCacheShape want = kv_cache_shape();
    if (shape.n_layers != want.n_layers || shape.k_width != want.k_width || shape.v_width != want.v_width)
      return Error{"forward: the KV cache was made for a different model"};
    if (!is_kv_cache_type(shape.type)) return Error{"forward: the KV cache has an unsupported element type"};
    for (int32_t t : in.tokens)
      if (t < 0 || t >= c.vocab_size)
        return Error{"token id " + std::to_string(t) + " is out of range [0, " + std::to_string(c.vocab_size) + ")"};
    const int64_t first_pos = in.cache->n_tokens();
    const int64_t n = static_cast<int64_t>(in.tokens.size());
    DSEEK_TRY(in.cache->reserve(first_pos + n));
    batch.sequences.push_back({in.cache, batch.n_rows, n, first_pos});
    for (int64_t i = 0; i < n; ++i) batch.positions.push_back(first_pos + i);
    tokens.insert(tokens.end(), in.tokens.begin(), in.tokens.end());
    batch.n_rows += n;
  }
  const int64_t n_pairs = rope_.n_pairs();
  batch.rope_cos.resize(static_cast<size_t>(batch.n_rows * n_pairs));
  batch.rope_sin.resize(static_cast<size_t>(batch.n_rows * n_pairs));
  rope_.fill(batch.positions.data(), batch.n_rows, batch.rope_cos.data(), batch.rope_sin.data());

  const size_t activations = static_cast<size_t>(batch.n_rows * hidden);
  std::vector<float> h(activations), normed(activations), delta(activations);
  ops::get_rows(embed_tokens_, tokens.data(), batch.n_rows, h.data());
  const float eps = static_cast<float>(c.rms_norm_eps);
  for (int64_t layer = 0; layer < c.num_hidden_layers; ++layer) {
    ops::rmsnorm(h.data(), input_norm_[layer].data(), batch.n_rows, hidden, eps, normed.data());
    attention(layer, batch, normed.data(), delta.data());
    for (size_t i = 0; i < activations; ++i) h[i] += delta[i];
    ops::rmsnorm(h.data(), post_attention_norm_[layer].data(), batch.n_rows, hidden, eps, normed.data());
    feed_forward(layer, batch, normed.data(), delta.data());
    for (size_t i = 0; i < activations; ++i) h[i] += delta[i];
  }
  for (const auto& seq : batch.sequences) seq.cache->commit(seq.n_rows);

  // Only the rows whose logits were asked for go through the head.
  std::vector<int64_t> out_rows;
  for (size_t s = 0; s < inputs.size(); ++s) {
    const auto& seq = batch.sequences[s];
    const int64_t first = inputs[s].all_logits ? seq.first_row : seq.first_row + seq.n_rows - 1;
    for (int64_t r = first; r < seq.first_row + seq.n_rows; ++r) out_rows.push_back(r);
  }
  const int64_t n_out = static_cast<int64_t>(out_rows.size());
  std::vector<float> final_h(static_cast<size_t>(n_out * hidden));
  for (int64_t i = 0; i < n_out; ++i)
    ops::rmsnorm(h.data() + out_rows[i] * hidden, final_norm_.data(), 1, hidden, eps, final_h.data() + i * hidden);
  std::vector<float> logits(static_cast<size_t>(n_out * c.vocab_size));
  ops::matmul(pool_, lm_head_, final_h.data(), n_out, logits.data());
  int64_t row = 0;
  for (const SequenceInput& in : inputs) {
    const int64_t n = in.all_logits ? static_cast<int64_t>(in.tokens.size()) : 1;
    std::memcpy(in.logits, logits.data() + row * c.vocab_size, sizeof(float) * n * c.vocab_size);
    row += n;
  }
  return ok_status();
}

}  // namespace dseek
