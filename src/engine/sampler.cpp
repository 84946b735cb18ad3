#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace dseek {

Status SamplingParams::validate() const {
  auto bad = [](const std::string& name, const std::string& why) { return Error{name + ": " + why}; };
  if (!std::isfinite(temperature) || temperature < 0 || temperature > 100) return bad("temperature", "must be in [0, 100]");
  if (top_k < 0) return bad("top_k", "must be >= 0");
  if (!std::isfinite(top_p) || top_p <= 0 || top_p > 1) return bad("top_p", "must be in (0, 1]");
  if (!std::isfinite(min_p) || min_p < 0 || min_p > 1) return bad("min_p", "must be in [0, 1]");
  if (!std::isfinite(repetition_penalty) || repetition_penalty <= 0 || repetition_penalty > 100)
    return bad("repetition_penalty", "must be in (0, 100]");
  if (!std::isfinite(frequency_penalty) || std::fabs(frequency_penalty) > 2) return bad("frequency_penalty", "must be in [-2, 2]");
  if (!std::isfinite(presence_penalty) || std::fabs(presence_penalty) > 2) return bad("presence_penalty", "must be in [-2, 2]");
  return ok_status();
}

namespace sampling {

void apply_penalties(std::vector<Candidate>& c, const SamplingParams& p, std::span<const int32_t> prompt,
                     std::span<const int32_t> output) {
  if (p.repetition_penalty == 1.0 && p.frequency_penalty == 0.0 && p.presence_penalty == 0.0) return;
  std::unordered_map<int32_t, int64_t> output_count;
  for (int32_t t : output) ++output_count[t];
  std::unordered_map<int32_t, bool> seen;
  if (p.repetition_penalty != 1.0) {
    for (int32_t t : prompt) seen[t] = true;
    for (int32_t t : output) seen[t] = true;
  }
  for (Candidate& cand : c) {
    if (p.repetition_penalty != 1.0 && seen.count(cand.id)) {
      // CTRL's rule as HF applies it: shrink positive logits, grow negative ones.
      cand.logit = cand.logit > 0 ? static_cast<float>(cand.logit / p.repetition_penalty)
                                  : static_cast<float>(cand.logit * p.repetition_penalty);
    }
    auto it = output_count.find(cand.id);
    if (it != output_count.end())
      cand.logit -= static_cast<float>(static_cast<double>(it->second) * p.frequency_penalty + p.presence_penalty);
  }
}

void apply_temperature(std::vector<Candidate>& c, double temperature) {
  for (Candidate& cand : c) cand.logit = static_cast<float>(cand.logit / temperature);
}

namespace {
void sort_descending(std::vector<Candidate>& c) {
  std::stable_sort(c.begin(), c.end(), [](const Candidate& a, const Candidate& b) { return a.logit > b.logit; });
}
}  // namespace

void keep_top_k(std::vector<Candidate>& c, int64_t k) {
  if (k > 0 && k < static_cast<int64_t>(c.size())) {
    std::partial_sort(c.begin(), c.begin() + k, c.end(), [](const Candidate& a, const Candidate& b) {
      return a.logit != b.logit ? a.logit > b.logit : a.id < b.id;
    });
    c.resize(static_cast<size_t>(k));
  } else {
    sort_descending(c);
  }
}

std::vector<double> probabilities(const std::vector<Candidate>& c) {
  std::vector<double> p(c.size());
  if (c.empty()) return p;
  double max_logit = -INFINITY;
  for (const Candidate& cand : c) max_logit = std::max(max_logit, static_cast<double>(cand.logit));
  double total = 0;
  for (size_t i = 0; i < c.size(); ++i) total += p[i] = std::exp(static_cast<double>(c[i].logit) - max_logit);
  for (double& v : p) v /= total;
  return p;
}

void keep_top_p(std::vector<Candidate>& c, double top_p) {
  if (top_p >= 1.0 || c.size() <= 1) return;
  sort_descending(c);
  std::vector<double> p = probabilities(c);
  double cumulative = 0;
  size_t keep = 0;
  while (keep < c.size()) {
    cumulative += p[keep++];
    if (cumulative >= top_p) break;
  }
  c.resize(std::max<size_t>(1, keep));
}

void keep_min_p(std::vector<Candidate>& c, double min_p) {
  if (min_p <= 0.0 || c.size() <= 1) return;
  float max_logit = -INFINITY;
  for (const Candidate& cand : c) max_logit = std::max(max_logit, cand.logit);
  // p_i >= min_p * p_max  <=>  logit_i >= logit_max + ln(min_p)
  const double threshold = max_logit + std::log(min_p);
  std::erase_if(c, [&](const Candidate& cand) { return cand.logit < threshold; });
}

}  // namespace sampling

uint64_t Rng::next() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

int32_t Sampler::sample(std::span<const float> logits, std::span<const int32_t> prompt,
                        std::span<const int32_t> output) {
  const bool penalties =
      params_.repetition_penalty != 1.0 || params_.frequency_penalty != 0.0 || params_.presence_penalty != 0.0;
  if (params_.greedy() && !penalties) {  // the first maximum: the lowest id on ties, as below
    return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  }
  candidates_.resize(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) candidates_[i] = {static_cast<int32_t>(i), logits[i]};
  sampling::apply_penalties(candidates_, params_, prompt, output);
  if (params_.greedy()) {
    size_t best = 0;
    for (size_t i = 1; i < candidates_.size(); ++i)
      if (candidates_[i].logit > candidates_[best].logit) best = i;
    return candidates_[best].id;
  }
  sampling::apply_temperature(candidates_, params_.temperature);
  sampling::keep_top_k(candidates_, params_.top_k);
  sampling::keep_top_p(candidates_, params_.top_p);
  sampling::keep_min_p(candidates_, params_.min_p);
  const std::vector<double> p = sampling::probabilities(candidates_);
  double u = rng_.uniform();
  for (size_t i = 0; i < p.size(); ++i) {
    if (u < p[i]) return candidates_[i].id;
    u -= p[i];
  }
  return candidates_.back().id;  // rounding left u just above the total
}

}  // namespace dseek
