#include "train/moe.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "model/moe_gate.h"

namespace dseek::train {

namespace {

void compute_scores(const MoeConfig& cfg, const float* logits, int64_t n_experts, float* scores) {
  if (cfg.scoring_func == ScoringFunc::kSigmoid) {
    for (int64_t e = 0; e < n_experts; ++e) scores[e] = 1.0f / (1.0f + std::exp(-logits[e]));
    return;
  }
  const float max_logit = *std::max_element(logits, logits + n_experts);
  double total = 0.0;
  for (int64_t e = 0; e < n_experts; ++e) total += std::exp(static_cast<double>(logits[e] - max_logit));
  for (int64_t e = 0; e < n_experts; ++e)
    scores[e] = static_cast<float>(std::exp(static_cast<double>(logits[e] - max_logit)) / total);
}

bool normalises(const MoeConfig& cfg) { return cfg.norm_topk_prob && cfg.num_experts_per_tok > 1; }

// DeepSeek-V3's sequence-wise balance loss for one sequence of t_len tokens:
// f_i = E / (K T) * (tokens choosing i), P_i = mean over tokens of s_i / sum_j s_j.
// Returns sum_i f_i P_i and, when ds != null, adds scale * d/ds to ds.
double sequence_balance(const MoeConfig& cfg, const float* scores, const int32_t* chosen, int64_t t_len,
                        float scale, float* ds) {
  const int64_t n_e = cfg.n_routed_experts, k = cfg.num_experts_per_tok;
  std::vector<double> f(static_cast<size_t>(n_e), 0.0), p(static_cast<size_t>(n_e), 0.0);
  for (int64_t t = 0; t < t_len; ++t)
    for (int64_t i = 0; i < k; ++i) f[chosen[t * k + i]] += 1.0;
  for (double& v : f) v *= static_cast<double>(n_e) / static_cast<double>(k * t_len);
  for (int64_t t = 0; t < t_len; ++t) {
    const float* s = scores + t * n_e;
    double total = 0.0;
    for (int64_t e = 0; e < n_e; ++e) total += s[e];
    for (int64_t e = 0; e < n_e; ++e) p[e] += s[e] / total / static_cast<double>(t_len);
    if (!ds) continue;
    // d/ds_e of sum_i f_i s_i / total, per token: (f_e - sum_i f_i s'_i) / total.
    double mean_f = 0.0;
    for (int64_t e = 0; e < n_e; ++e) mean_f += f[e] * s[e] / total;
    for (int64_t e = 0; e < n_e; ++e)
      ds[t * n_e + e] += static_cast<float>(scale * (f[e] - mean_f) / total / static_cast<double>(t_len));
  }
  double loss = 0.0;
  for (int64_t e = 0; e < n_e; ++e) loss += f[e] * p[e];
  return loss;
}

}  // namespace

double moe_forward(ThreadPool& pool, const Moe& m, const SeqShape& shape, const float* x, float* out, MoeSaved& s,
                   std::vector<int64_t>& counts, float balance_alpha) {
  const MoeConfig& cfg = *m.cfg;
  const int64_t n = shape.rows(), n_e = cfg.n_routed_experts, k = cfg.num_experts_per_tok;
  const int64_t hidden = m.hidden;
  Buffer logits(static_cast<size_t>(n * n_e));
  m.gate.forward(pool, x, n, logits.data());
  s.scores.resize(logits.size());
  s.chosen.resize(static_cast<size_t>(n * k));
  s.weights.resize(static_cast<size_t>(n * k));
  RouteScratch scratch;
  const float* bias = m.bias ? m.bias->data() : nullptr;
  for (int64_t r = 0; r < n; ++r) {
    compute_scores(cfg, logits.data() + r * n_e, n_e, s.scores.data() + r * n_e);
    route_token(cfg, logits.data() + r * n_e, bias, s.chosen.data() + r * k, s.weights.data() + r * k, scratch);
  }
  // The combine weights from the scores kept here (the ones backward differentiates).
  for (int64_t r = 0; r < n; ++r) {
    const float* sc = s.scores.data() + r * n_e;
    float* w = s.weights.data() + r * k;
    double total = 0.0;
    for (int64_t i = 0; i < k; ++i) total += sc[s.chosen[r * k + i]];
    for (int64_t i = 0; i < k; ++i) {
      double v = sc[s.chosen[r * k + i]];
      if (normalises(cfg)) v /= total + 1e-20;
      w[i] = static_cast<float>(v * cfg.routed_scaling_factor);
    }
  }

  s.assigned.assign(static_cast<size_t>(n_e), {});
  for (int64_t r = 0; r < n; ++r)
    for (int64_t i = 0; i < k; ++i) s.assigned[s.chosen[r * k + i]].push_back(static_cast<int32_t>(r * k + i));
  if (counts.size() != static_cast<size_t>(n_e)) counts.assign(static_cast<size_t>(n_e), 0);
  for (int64_t e = 0; e < n_e; ++e) counts[e] += static_cast<int64_t>(s.assigned[e].size());

  if (m.has_shared) swiglu_forward(pool, m.shared, x, n, out, s.shared_saved);
  else std::fill(out, out + n * hidden, 0.0f);

  s.expert_saved.resize(static_cast<size_t>(n_e));
  s.expert_y.resize(static_cast<size_t>(n_e));
  Buffer xs;
  for (int64_t e = 0; e < n_e; ++e) {
    const auto& rows = s.assigned[e];
    const int64_t ne = static_cast<int64_t>(rows.size());
    if (ne == 0) continue;
    xs.resize(static_cast<size_t>(ne * hidden));
    for (int64_t i = 0; i < ne; ++i) std::memcpy(xs.data() + i * hidden, x + rows[i] / k * hidden, sizeof(float) * hidden);
    Buffer& y = s.expert_y[e];
    y.resize(static_cast<size_t>(ne * hidden));
    swiglu_forward(pool, m.experts[e], xs.data(), ne, y.data(), s.expert_saved[e]);
    for (int64_t i = 0; i < ne; ++i) {
      const float w = s.weights[rows[i]];
      float* dst = out + rows[i] / k * hidden;
      const float* src = y.data() + i * hidden;
      for (int64_t j = 0; j < hidden; ++j) dst[j] += w * src[j];
    }
  }

  if (balance_alpha == 0.0f) return 0.0;
  double loss = 0.0;
  for (int64_t q = 0; q < shape.n_seq; ++q)
    loss += sequence_balance(cfg, s.scores.data() + q * shape.seq_len * n_e, s.chosen.data() + q * shape.seq_len * k,
                             shape.seq_len, 0.0f, nullptr);
  return balance_alpha * loss / static_cast<double>(shape.n_seq);
}

void moe_backward(ThreadPool& pool, const Moe& m, const SeqShape& shape, const float* x, const MoeSaved& s,
                  const float* dout, float balance_scale, float* dx) {
  const MoeConfig& cfg = *m.cfg;
  const int64_t n = shape.rows(), n_e = cfg.n_routed_experts, k = cfg.num_experts_per_tok;
  const int64_t hidden = m.hidden;

  if (m.has_shared) swiglu_backward(pool, m.shared, x, s.shared_saved, dout, n, dx, false);
  else std::fill(dx, dx + n * hidden, 0.0f);

  Buffer dweights(static_cast<size_t>(n * k), 0.0f);
  Buffer xs, dy, dxs;
  for (int64_t e = 0; e < n_e; ++e) {
    const auto& rows = s.assigned[e];
    const int64_t ne = static_cast<int64_t>(rows.size());
    if (ne == 0) continue;
    xs.resize(static_cast<size_t>(ne * hidden));
    dy.resize(xs.size());
    dxs.resize(xs.size());
    const Buffer& y = s.expert_y[e];
    for (int64_t i = 0; i < ne; ++i) {
      const int64_t r = rows[i] / k;
      std::memcpy(xs.data() + i * hidden, x + r * hidden, sizeof(float) * hidden);
      const float w = s.weights[rows[i]];
      const float* d = dout + r * hidden;
      double dot = 0.0;
      for (int64_t j = 0; j < hidden; ++j) {
        dy[i * hidden + j] = w * d[j];
        dot += static_cast<double>(d[j]) * y[i * hidden + j];
      }
      dweights[rows[i]] = static_cast<float>(dot);
    }
    swiglu_backward(pool, m.experts[e], xs.data(), s.expert_saved[e], dy.data(), ne, dxs.data(), false);
    for (int64_t i = 0; i < ne; ++i) {
      float* dst = dx + rows[i] / k * hidden;
      const float* src = dxs.data() + i * hidden;
      for (int64_t j = 0; j < hidden; ++j) dst[j] += src[j];
    }
  }

  // Through the combine weights to the scores of the chosen experts:
  // w_i = r s_i / S (S = sum of the chosen scores) or w_i = r s_i.
  Buffer dscores(static_cast<size_t>(n * n_e), 0.0f);
  const double r_scale = cfg.routed_scaling_factor;
  for (int64_t r = 0; r < n; ++r) {
    const float* sc = s.scores.data() + r * n_e;
    const int32_t* ch = s.chosen.data() + r * k;
    const float* dw = dweights.data() + r * k;
    float* ds = dscores.data() + r * n_e;
    if (normalises(cfg)) {
      double total = 0.0, weighted = 0.0;
      for (int64_t i = 0; i < k; ++i) total += sc[ch[i]];
      total += 1e-20;
      for (int64_t i = 0; i < k; ++i) weighted += static_cast<double>(dw[i]) * sc[ch[i]];
      for (int64_t i = 0; i < k; ++i)
        ds[ch[i]] += static_cast<float>(r_scale * (dw[i] / total - weighted / (total * total)));
    } else {
      for (int64_t i = 0; i < k; ++i) ds[ch[i]] += static_cast<float>(r_scale * dw[i]);
    }
  }
  if (balance_scale != 0.0f)
    for (int64_t q = 0; q < shape.n_seq; ++q)
      sequence_balance(cfg, s.scores.data() + q * shape.seq_len * n_e, s.chosen.data() + q * shape.seq_len * k,
                       shape.seq_len, balance_scale / static_cast<float>(shape.n_seq),
                       dscores.data() + q * shape.seq_len * n_e);

  // Scores to router logits.
  Buffer dlogits(dscores.size());
  for (int64_t r = 0; r < n; ++r) {
    const float* sc = s.scores.data() + r * n_e;
    const float* ds = dscores.data() + r * n_e;
    float* dl = dlogits.data() + r * n_e;
    if (cfg.scoring_func == ScoringFunc::kSigmoid) {
      for (int64_t e = 0; e < n_e; ++e) dl[e] = ds[e] * sc[e] * (1.0f - sc[e]);
    } else {
      double dot = 0.0;
      for (int64_t e = 0; e < n_e; ++e) dot += static_cast<double>(ds[e]) * sc[e];
      for (int64_t e = 0; e < n_e; ++e) dl[e] = sc[e] * (ds[e] - static_cast<float>(dot));
    }
  }
  m.gate.backward(pool, x, dlogits.data(), n, dx, true);
}

void update_expert_bias(const std::vector<int64_t>& counts, float gamma, float* bias) {
  if (counts.empty()) return;
  int64_t total = 0;
  for (int64_t c : counts) total += c;
  const int64_t n = static_cast<int64_t>(counts.size());
  for (int64_t e = 0; e < n; ++e) {
    // Compare count * n with total to stay in integers: c < mean <=> c * n < total.
    const int64_t scaled = counts[e] * n;
    if (scaled < total) bias[e] += gamma;
    else if (scaled > total) bias[e] -= gamma;
  }
}

double load_imbalance(const std::vector<int64_t>& counts) {
  if (counts.empty()) return 1.0;
  int64_t total = 0, most = 0;
  for (int64_t c : counts) {
    total += c;
    most = std::max(most, c);
  }
  if (total == 0) return 1.0;
  return static_cast<double>(most) * static_cast<double>(counts.size()) / static_cast<double>(total);
}

}  // namespace dseek::train
