// Rotary position embedding frequencies for every scaling the supported
// families publish: none, linear (DeepSeek-Coder), llama3 (R1-Distill-Llama)
// and YaRN (DeepSeek-V2/V3), following the Hugging Face definitions.
#pragma once

#include <cstdint>
#include <vector>

#include "model/config.h"

namespace dseek {

struct RopeFrequencies {
  std::vector<double> inv_freq;  // one frequency per rotated pair
  double position_scale = 1.0;   // linear scaling divides positions by the factor
  double magnitude = 1.0;        // YaRN scales cos/sin by mscale(mscale)/mscale(mscale_all_dim)

  int64_t n_pairs() const { return static_cast<int64_t>(inv_freq.size()); }
  // cos/sin [n_positions][n_pairs], angles computed in double.
  void fill(const int64_t* positions, int64_t n_positions, float* cos, float* sin) const;
};

RopeFrequencies make_rope_frequencies(int64_t rotary_dim, double theta, const RopeScaling& scaling);

// YaRN's correction of the attention softmax scale: mscale^2 with
// mscale = 0.1 * mscale_all_dim * ln(factor) + 1, when mscale_all_dim is set;
// 1 otherwise.
double yarn_softmax_scale_factor(const RopeScaling& scaling);

}  // namespace dseek
