// MLA attention and DeepSeekMoE blocks on their own against finite
// differences: input gradients and every parameter's gradient, including the
// router's (through the normalised sigmoid weights and the balance loss).
#include <gtest/gtest.h>

#include "train/attention_layers.h"
#include "train/gradcheck.h"
#include "train/moe.h"

namespace dseek::testing {
namespace {

using train::Buffer;

struct Builder {
  train::ParamStore ps;
  std::mt19937 rng{11};
  train::Linear linear(const std::string& name, int64_t in, int64_t out, float scale = 0.4f) {
    train::Linear l;
    l.in = in;
    l.out = out;
    l.w = ps.add(name, {out, in});
    l.w->value = random_values(static_cast<size_t>(in * out), rng, scale);
    return l;
  }
  train::Norm norm(const std::string& name, int64_t n) {
    train::Norm m;
    m.n = n;
    m.w = ps.add(name, {n}, true, false);
    for (float& v : m.w->value) v = 1.0f + 0.1f * std::normal_distribution<float>()(rng);
    return m;
  }
  train::SwiGlu swiglu(const std::string& name, int64_t hidden, int64_t inter) {
    train::SwiGlu m;
    m.gate = linear(name + ".gate", hidden, inter);
    m.up = linear(name + ".up", hidden, inter);
    m.down = linear(name + ".down", inter, hidden);
    return m;
  }
  std::vector<Checked> all_params() {
    std::vector<Checked> out;
    for (train::Param* p : ps.all())
      if (p->trainable) out.push_back({p->name, p->data(), p->g(), p->value.size()});
    return out;
  }
};

train::RopeTable rope_table(int64_t seq, int64_t pairs) {
  train::RopeTable t;
  t.pairs = pairs;
  for (int64_t p = 0; p < seq; ++p)
    for (int64_t i = 0; i < pairs; ++i) {
      const double angle = p * std::pow(50.0, -static_cast<double>(i) / pairs);
      t.cos.push_back(static_cast<float>(std::cos(angle)));
      t.sin.push_back(static_cast<float>(std::sin(angle)));
      t.neg_sin.push_back(-t.sin.back());
    }
  return t;
}

class MlaGradients : public ::testing::TestWithParam<bool> {};

TEST_P(MlaGradients, MatchFiniteDifferences) {
  const bool q_lora = GetParam();
  Builder b;
  train::Mla m;
  const int64_t hidden = 12;
  m.heads = 2;
  m.nope = 4;
  m.rope = 4;
  m.v_dim = 3;
  m.kv_rank = 6;
  m.q_lora = q_lora;
  m.scale = 0.35f;
  if (q_lora) {
    m.q_a_proj = b.linear("q_a_proj", hidden, 5);
    m.q_a_norm = b.norm("q_a_layernorm", 5);
    m.q_b_proj = b.linear("q_b_proj", 5, m.heads * m.q_head());
  } else {
    m.q_proj = b.linear("q_proj", hidden, m.heads * m.q_head());
  }
  m.kv_a_proj = b.linear("kv_a_proj_with_mqa", hidden, m.kv_rank + m.rope);
  m.kv_a_norm = b.norm("kv_a_layernorm", m.kv_rank);
  m.kv_b_proj = b.linear("kv_b_proj", m.kv_rank, m.heads * (m.nope + m.v_dim));
  m.o_proj = b.linear("o_proj", m.heads * m.v_dim, hidden);
  const train::SeqShape shape{2, 4};
  const train::RopeTable rope = rope_table(shape.seq_len, m.rope / 2);
  auto x = random_values(static_cast<size_t>(shape.rows() * hidden), b.rng);
  auto r = random_values(x.size(), b.rng);
  ThreadPool pool(2);
  Buffer out(x.size()), dx(x.size());
  train::MlaSaved saved;
  auto f = [&] {
    train::mla_forward(pool, m, shape, rope, x.data(), out.data(), saved);
    return weighted_sum(out.data(), r);
  };
  f();
  train::mla_backward(pool, m, shape, rope, x.data(), saved, r.data(), dx.data());
  auto checked = b.all_params();
  checked.push_back({"x", x.data(), dx.data(), x.size()});
  expect_gradients(f, checked);
}

INSTANTIATE_TEST_SUITE_P(QLora, MlaGradients, ::testing::Values(true, false));

struct MoeCase {
  const char* name;
  ScoringFunc scoring;
  TopkMethod method;
  bool norm_topk_prob;
  int64_t n_group, topk_group;
};

void PrintTo(const MoeCase& c, std::ostream* os) { *os << c.name; }

class MoeGradients : public ::testing::TestWithParam<MoeCase> {};

TEST_P(MoeGradients, MatchFiniteDifferences) {
  const MoeCase& c = GetParam();
  MoeConfig cfg;
  cfg.n_routed_experts = 8;
  cfg.n_shared_experts = 1;
  cfg.num_experts_per_tok = 3;
  cfg.moe_intermediate_size = 5;
  cfg.n_group = c.n_group;
  cfg.topk_group = c.topk_group;
  cfg.topk_method = c.method;
  cfg.scoring_func = c.scoring;
  cfg.norm_topk_prob = c.norm_topk_prob;
  cfg.routed_scaling_factor = 2.5;
  Builder b;
  const int64_t hidden = 6;
  train::Moe m;
  m.cfg = &cfg;
  m.hidden = hidden;
  m.gate = b.linear("gate", hidden, cfg.n_routed_experts, 1.0f);
  if (c.method == TopkMethod::kNoauxTc) {
    m.bias = b.ps.add("e_score_correction_bias", {cfg.n_routed_experts}, false);
    m.bias->value = random_values(static_cast<size_t>(cfg.n_routed_experts), b.rng, 0.2f);
  }
  for (int e = 0; e < cfg.n_routed_experts; ++e) m.experts.push_back(b.swiglu("expert" + std::to_string(e), hidden, 5));
  m.has_shared = true;
  m.shared = b.swiglu("shared", hidden, 5);
  const train::SeqShape shape{2, 5};
  auto x = random_values(static_cast<size_t>(shape.rows() * hidden), b.rng);
  auto r = random_values(x.size(), b.rng);
  const float alpha = 0.5f;
  ThreadPool pool(1);
  Buffer out(x.size()), dx(x.size());
  train::MoeSaved saved;
  std::vector<int64_t> counts;
  auto f = [&] {
    const double balance = train::moe_forward(pool, m, shape, x.data(), out.data(), saved, counts, alpha);
    return weighted_sum(out.data(), r) + balance;
  };
  f();
  const std::vector<int32_t> chosen = saved.chosen;
  train::moe_backward(pool, m, shape, x.data(), saved, r.data(), alpha, dx.data());
  auto checked = b.all_params();
  int used = 0;
  for (Checked& p : checked)
    if (p.name.rfind("expert", 0) == 0) {
      const int e = std::stoi(p.name.substr(6));
      p.may_be_unused = saved.assigned[e].empty();
      used += !p.may_be_unused;
    }
  EXPECT_GE(used, 3 * 4) << "at least four routed experts in use";
  checked.push_back({"x", x.data(), dx.data(), x.size()});
  int crossings = 0;
  expect_gradients(f, checked, 5e-3, 64, [&] {
    crossings += saved.chosen != chosen;
    return saved.chosen == chosen;
  });
  EXPECT_LE(crossings, 4) << "most perturbations keep the routing";
  // Each token goes to num_experts_per_tok experts.
  std::vector<int64_t> fresh;
  train::moe_forward(pool, m, shape, x.data(), out.data(), saved, fresh, 0.0f);
  int64_t sum = 0;
  for (int64_t v : fresh) sum += v;
  EXPECT_EQ(sum, shape.rows() * cfg.num_experts_per_tok);
}

INSTANTIATE_TEST_SUITE_P(
    Routing, MoeGradients,
    ::testing::Values(MoeCase{"v3_noaux_tc_groups", ScoringFunc::kSigmoid, TopkMethod::kNoauxTc, true, 4, 2},
                      MoeCase{"sigmoid_greedy_unnormalised", ScoringFunc::kSigmoid, TopkMethod::kGreedy, false, 1, 1},
                      MoeCase{"v2_softmax_group_limited", ScoringFunc::kSoftmax, TopkMethod::kGroupLimitedGreedy, false,
                              2, 1}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace dseek::testing
