// Every op's backward on its own against finite differences of its forward.
#include <gtest/gtest.h>

#include <cstring>

#include "train/attention_layers.h"
#include "train/gemm.h"
#include "train/gradcheck.h"
#include "train/layers.h"
#include "train/train_ops.h"

namespace dseek::testing {
namespace {

using train::Buffer;

TEST(OpGradients, RmsNorm) {
  std::mt19937 rng(1);
  const int64_t rows = 3, n = 8;
  auto x = random_values(rows * n, rng);
  auto w = random_values(n, rng);
  auto r = random_values(rows * n, rng);
  Buffer y(x.size()), rstd(rows), dx(x.size()), dw(n, 0.0f);
  auto f = [&] {
    train::rmsnorm_forward(x.data(), w.data(), rows, n, 1e-6f, y.data(), rstd.data());
    return weighted_sum(y.data(), r);
  };
  f();
  train::rmsnorm_backward(x.data(), w.data(), rstd.data(), r.data(), rows, n, dx.data(), false, dw.data());
  expect_gradients(f, {{"x", x.data(), dx.data(), x.size()}, {"weight", w.data(), dw.data(), w.size()}});
}

TEST(OpGradients, SiluMul) {
  std::mt19937 rng(2);
  const int64_t n = 40;
  auto g = random_values(n, rng, 2.0f);
  auto u = random_values(n, rng);
  auto r = random_values(n, rng);
  Buffer out(n), dg(n), du(n);
  auto f = [&] {
    train::silu_mul_forward(g.data(), u.data(), n, out.data());
    return weighted_sum(out.data(), r);
  };
  train::silu_mul_backward(g.data(), u.data(), r.data(), n, dg.data(), du.data());
  expect_gradients(f, {{"gate", g.data(), dg.data(), g.size()}, {"up", u.data(), du.data(), u.size()}});
}

TEST(OpGradients, RopeBothStyles) {
  for (auto style : {kernels::RopeStyle::kInterleaved, kernels::RopeStyle::kHalfSplit}) {
    std::mt19937 rng(3);
    const int64_t seq = 4, heads = 2, dim = 8, pairs = dim / 2;
    train::RopeTable t;
    t.pairs = pairs;
    for (int64_t p = 0; p < seq; ++p)
      for (int64_t i = 0; i < pairs; ++i) {
        const double angle = p * std::pow(100.0, -static_cast<double>(i) / pairs);
        t.cos.push_back(static_cast<float>(std::cos(angle)));
        t.sin.push_back(static_cast<float>(std::sin(angle)));
        t.neg_sin.push_back(-t.sin.back());
      }
    auto x = random_values(seq * heads * dim, rng);
    auto r = random_values(x.size(), rng);
    Buffer y(x.size()), dx(r);
    auto f = [&] {
      y = x;
      train::rope_rows(y.data(), seq, seq, heads * dim, heads, dim, t, style, false);
      return weighted_sum(y.data(), r);
    };
    train::rope_rows(dx.data(), seq, seq, heads * dim, heads, dim, t, style, true);
    expect_gradients(f, {{"x", x.data(), dx.data(), x.size()}});
  }
}

TEST(OpGradients, CrossEntropy) {
  std::mt19937 rng(4);
  const int64_t rows = 4, vocab = 11;
  auto logits = random_values(rows * vocab, rng, 3.0f);
  std::vector<int32_t> targets{3, 0, 10, -1};  // the last row is skipped
  ThreadPool pool(2);
  Buffer grad(logits);
  train::cross_entropy(pool, grad.data(), targets.data(), rows, vocab, 1.0f);
  auto f = [&] { return train::cross_entropy_loss(pool, logits.data(), targets.data(), rows, vocab); };
  expect_gradients(f, {{"logits", logits.data(), grad.data(), logits.size()}}, 1e-3, 64);
  for (int64_t j = 0; j < vocab; ++j) EXPECT_EQ(grad[3 * vocab + j], 0.0f);
}

TEST(OpGradients, CausalAttentionGrouped) {
  std::mt19937 rng(5);
  train::AttentionShape s{2, 5, 4, 2, 6, 3, 0.4f};
  const int64_t rows = s.n_seq * s.seq_len;
  auto q = random_values(rows * s.heads * s.dk, rng);
  auto k = random_values(rows * s.kv_heads * s.dk, rng);
  auto v = random_values(rows * s.kv_heads * s.dv, rng);
  auto r = random_values(rows * s.heads * s.dv, rng);
  ThreadPool pool(2);
  Buffer probs(s.n_seq * s.heads * s.seq_len * s.seq_len), o(r.size());
  auto f = [&] {
    train::attention_forward(pool, s, q.data(), k.data(), v.data(), probs.data(), o.data());
    return weighted_sum(o.data(), r);
  };
  f();
  Buffer dq(q.size()), dk(k.size()), dv(v.size());
  train::attention_backward(pool, s, q.data(), k.data(), v.data(), probs.data(), r.data(), dq.data(), dk.data(), dv.data());
  expect_gradients(f, {{"q", q.data(), dq.data(), q.size()}, {"k", k.data(), dk.data(), k.size()},
                       {"v", v.data(), dv.data(), v.size()}});
  // Causality: the first token's output does not depend on later keys.
  const float before = o[0];
  k[(s.seq_len - 1) * s.kv_heads * s.dk] += 1.0f;
  f();
  EXPECT_EQ(o[0], before);
}

TEST(OpGradients, LinearWithBias) {
  std::mt19937 rng(6);
  train::ParamStore ps;
  train::Linear l;
  l.in = 7;
  l.out = 5;
  l.w = ps.add("w", {5, 7});
  l.b = ps.add("b", {5}, true, false);
  l.w->value = random_values(35, rng);
  l.b->value = random_values(5, rng);
  const int64_t n = 9;
  auto x = random_values(n * 7, rng);
  auto r = random_values(n * 5, rng);
  ThreadPool pool(2);
  Buffer y(r.size()), dx(x.size());
  auto f = [&] {
    l.forward(pool, x.data(), n, y.data());
    return weighted_sum(y.data(), r);
  };
  l.backward(pool, x.data(), r.data(), n, dx.data(), false);
  expect_gradients(f, {{"x", x.data(), dx.data(), x.size()}, {"weight", l.w->data(), l.w->g(), 35},
                       {"bias", l.b->data(), l.b->g(), 5}});
}

TEST(OpGradients, SwiGlu) {
  std::mt19937 rng(7);
  train::ParamStore ps;
  train::SwiGlu m;
  auto lin = [&](const char* name, int64_t in, int64_t out) {
    train::Linear l;
    l.in = in;
    l.out = out;
    l.w = ps.add(name, {out, in});
    l.w->value = random_values(static_cast<size_t>(in * out), rng, 0.5f);
    return l;
  };
  m.gate = lin("gate", 6, 10);
  m.up = lin("up", 6, 10);
  m.down = lin("down", 10, 6);
  const int64_t n = 4;
  auto x = random_values(n * 6, rng);
  auto r = random_values(n * 6, rng);
  ThreadPool pool(1);
  Buffer out(r.size()), dx(x.size());
  train::SwiGluSaved saved;
  auto f = [&] {
    train::swiglu_forward(pool, m, x.data(), n, out.data(), saved);
    return weighted_sum(out.data(), r);
  };
  f();
  train::swiglu_backward(pool, m, x.data(), saved, r.data(), n, dx.data(), false);
  expect_gradients(f, {{"x", x.data(), dx.data(), x.size()},
                       {"gate_proj", m.gate.w->data(), m.gate.w->g(), 60},
                       {"up_proj", m.up.w->data(), m.up.w->g(), 60},
                       {"down_proj", m.down.w->data(), m.down.w->g(), 60}});
}

}  // namespace
}  // namespace dseek::testing
