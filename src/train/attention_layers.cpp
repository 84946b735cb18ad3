#include "train/attention_layers.h"

#include <cstring>

namespace dseek::train {

namespace {
constexpr auto kAdjacent = kernels::RopeStyle::kInterleaved;
constexpr auto kHalfSplit = kernels::RopeStyle::kHalfSplit;
}  // namespace

void mla_forward(ThreadPool& pool, const Mla& m, const SeqShape& shape, const RopeTable& rope, const float* x,
                 float* out, MlaSaved& s) {
  const int64_t n = shape.rows();
  const int64_t qh = m.q_head(), heads = m.heads;
  const int64_t latent = m.kv_rank + m.rope;
  s.q.resize(static_cast<size_t>(n * heads * qh));
  if (m.q_lora) {
    s.qa.resize(static_cast<size_t>(n * m.q_a_proj.out));
    s.qan.resize(s.qa.size());
    m.q_a_proj.forward(pool, x, n, s.qa.data());
    norm_forward(m.q_a_norm, s.qa.data(), n, s.qan.data(), s.qa_norm);
    m.q_b_proj.forward(pool, s.qan.data(), n, s.q.data());
  } else {
    m.q_proj.forward(pool, x, n, s.q.data());
  }
  rope_rows(s.q.data() + m.nope, n, shape.seq_len, heads * qh, heads, qh, rope, kAdjacent, false);

  Buffer kva(static_cast<size_t>(n * latent));
  m.kv_a_proj.forward(pool, x, n, kva.data());
  s.c.resize(static_cast<size_t>(n * m.kv_rank));
  Buffer k_pe(static_cast<size_t>(n * m.rope));
  for (int64_t r = 0; r < n; ++r) {
    std::memcpy(s.c.data() + r * m.kv_rank, kva.data() + r * latent, sizeof(float) * m.kv_rank);
    std::memcpy(k_pe.data() + r * m.rope, kva.data() + r * latent + m.kv_rank, sizeof(float) * m.rope);
  }
  s.cn.resize(s.c.size());
  norm_forward(m.kv_a_norm, s.c.data(), n, s.cn.data(), s.c_norm);
  rope_rows(k_pe.data(), n, shape.seq_len, m.rope, 1, m.rope, rope, kAdjacent, false);

  const int64_t kv_head = m.nope + m.v_dim;
  Buffer kv(static_cast<size_t>(n * heads * kv_head));
  m.kv_b_proj.forward(pool, s.cn.data(), n, kv.data());
  s.k.resize(static_cast<size_t>(n * heads * qh));
  s.v.resize(static_cast<size_t>(n * heads * m.v_dim));
  for (int64_t r = 0; r < n; ++r)
    for (int64_t h = 0; h < heads; ++h) {
      const float* src = kv.data() + (r * heads + h) * kv_head;
      float* k = s.k.data() + (r * heads + h) * qh;
      std::memcpy(k, src, sizeof(float) * m.nope);
      std::memcpy(k + m.nope, k_pe.data() + r * m.rope, sizeof(float) * m.rope);
      std::memcpy(s.v.data() + (r * heads + h) * m.v_dim, src + m.nope, sizeof(float) * m.v_dim);
    }

  AttentionShape a{shape.n_seq, shape.seq_len, heads, heads, qh, m.v_dim, m.scale};
  s.probs.resize(static_cast<size_t>(shape.n_seq * heads * shape.seq_len * shape.seq_len));
  s.o.resize(static_cast<size_t>(n * heads * m.v_dim));
  attention_forward(pool, a, s.q.data(), s.k.data(), s.v.data(), s.probs.data(), s.o.data());
  m.o_proj.forward(pool, s.o.data(), n, out);
}

void mla_backward(ThreadPool& pool, const Mla& m, const SeqShape& shape, const RopeTable& rope, const float* x,
                  const MlaSaved& s, const float* dout, float* dx) {
  const int64_t n = shape.rows();
  const int64_t qh = m.q_head(), heads = m.heads;
  const int64_t latent = m.kv_rank + m.rope;
  const int64_t kv_head = m.nope + m.v_dim;

  Buffer d_o(s.o.size());
  m.o_proj.backward(pool, s.o.data(), dout, n, d_o.data(), false);
  Buffer dq(s.q.size()), dk(s.k.size()), dv(s.v.size());
  AttentionShape a{shape.n_seq, shape.seq_len, heads, heads, qh, m.v_dim, m.scale};
  attention_backward(pool, a, s.q.data(), s.k.data(), s.v.data(), s.probs.data(), d_o.data(), dq.data(), dk.data(),
                     dv.data());

  // Split dK back into kv_b_proj's output and the one shared k_pe.
  Buffer dkv(static_cast<size_t>(n * heads * kv_head));
  Buffer dkva(static_cast<size_t>(n * latent), 0.0f);
  for (int64_t r = 0; r < n; ++r) {
    float* dpe = dkva.data() + r * latent + m.kv_rank;
    for (int64_t h = 0; h < heads; ++h) {
      const float* dkh = dk.data() + (r * heads + h) * qh;
      float* dst = dkv.data() + (r * heads + h) * kv_head;
      std::memcpy(dst, dkh, sizeof(float) * m.nope);
      std::memcpy(dst + m.nope, dv.data() + (r * heads + h) * m.v_dim, sizeof(float) * m.v_dim);
      for (int64_t i = 0; i < m.rope; ++i) dpe[i] += dkh[m.nope + i];
    }
  }
  rope_rows(dkva.data() + m.kv_rank, n, shape.seq_len, latent, 1, m.rope, rope, kAdjacent, true);

  Buffer dcn(s.cn.size()), dc(s.c.size());
  m.kv_b_proj.backward(pool, s.cn.data(), dkv.data(), n, dcn.data(), false);
  norm_backward(m.kv_a_norm, s.c.data(), s.c_norm, dcn.data(), n, dc.data(), false);
  for (int64_t r = 0; r < n; ++r)
    std::memcpy(dkva.data() + r * latent, dc.data() + r * m.kv_rank, sizeof(float) * m.kv_rank);
  m.kv_a_proj.backward(pool, x, dkva.data(), n, dx, false);

  rope_rows(dq.data() + m.nope, n, shape.seq_len, heads * qh, heads, qh, rope, kAdjacent, true);
  if (m.q_lora) {
    Buffer dqan(s.qan.size()), dqa(s.qa.size());
    m.q_b_proj.backward(pool, s.qan.data(), dq.data(), n, dqan.data(), false);
    norm_backward(m.q_a_norm, s.qa.data(), s.qa_norm, dqan.data(), n, dqa.data(), false);
    m.q_a_proj.backward(pool, x, dqa.data(), n, dx, true);
  } else {
    m.q_proj.backward(pool, x, dq.data(), n, dx, true);
  }
}

void gqa_forward(ThreadPool& pool, const Gqa& m, const SeqShape& shape, const RopeTable& rope, const float* x,
                 float* out, GqaSaved& s) {
  const int64_t n = shape.rows();
  const int64_t hd = m.head_dim;
  s.q.resize(static_cast<size_t>(n * m.heads * hd));
  s.k.resize(static_cast<size_t>(n * m.kv_heads * hd));
  s.v.resize(s.k.size());
  m.q_proj.forward(pool, x, n, s.q.data());
  m.k_proj.forward(pool, x, n, s.k.data());
  m.v_proj.forward(pool, x, n, s.v.data());
  rope_rows(s.q.data(), n, shape.seq_len, m.heads * hd, m.heads, hd, rope, kHalfSplit, false);
  rope_rows(s.k.data(), n, shape.seq_len, m.kv_heads * hd, m.kv_heads, hd, rope, kHalfSplit, false);
  AttentionShape a{shape.n_seq, shape.seq_len, m.heads, m.kv_heads, hd, hd, m.scale};
  s.probs.resize(static_cast<size_t>(shape.n_seq * m.heads * shape.seq_len * shape.seq_len));
  s.o.resize(s.q.size());
  attention_forward(pool, a, s.q.data(), s.k.data(), s.v.data(), s.probs.data(), s.o.data());
  m.o_proj.forward(pool, s.o.data(), n, out);
}

void gqa_backward(ThreadPool& pool, const Gqa& m, const SeqShape& shape, const RopeTable& rope, const float* x,
                  const GqaSaved& s, const float* dout, float* dx) {
  const int64_t n = shape.rows();
  const int64_t hd = m.head_dim;
  Buffer d_o(s.o.size());
  m.o_proj.backward(pool, s.o.data(), dout, n, d_o.data(), false);
  Buffer dq(s.q.size()), dk(s.k.size()), dv(s.v.size());
  AttentionShape a{shape.n_seq, shape.seq_len, m.heads, m.kv_heads, hd, hd, m.scale};
  attention_backward(pool, a, s.q.data(), s.k.data(), s.v.data(), s.probs.data(), d_o.data(), dq.data(), dk.data(),
                     dv.data());
  rope_rows(dq.data(), n, shape.seq_len, m.heads * hd, m.heads, hd, rope, kHalfSplit, true);
  rope_rows(dk.data(), n, shape.seq_len, m.kv_heads * hd, m.kv_heads, hd, rope, kHalfSplit, true);
  m.q_proj.backward(pool, x, dq.data(), n, dx, false);
  m.k_proj.backward(pool, x, dk.data(), n, dx, true);
  m.v_proj.backward(pool, x, dv.data(), n, dx, true);
}

}  // namespace dseek::train
