#include "model/rope.h"

#include <algorithm>
#include <cmath>

namespace dseek {

namespace {

double yarn_mscale(double factor, double mscale) {
  if (factor <= 1.0) return 1.0;
  return 0.1 * mscale * std::log(factor) + 1.0;
}

// The rotary dimension index at which a frequency completes `rotations`
// turns over the original context (YaRN's correction range).
double yarn_correction_dim(double rotations, int64_t dim, double theta, double original_context) {
  return static_cast<double>(dim) * std::log(original_context / (rotations * 2.0 * M_PI)) /
         (2.0 * std::log(theta));
}

}  // namespace

void RopeFrequencies::fill(const int64_t* positions, int64_t n_positions, float* cos, float* sin) const {
  const int64_t n = n_pairs();
  for (int64_t t = 0; t < n_positions; ++t) {
    const double p = static_cast<double>(positions[t]) * position_scale;
    for (int64_t i = 0; i < n; ++i) {
      const double angle = p * inv_freq[i];
      cos[t * n + i] = static_cast<float>(std::cos(angle) * magnitude);
      sin[t * n + i] = static_cast<float>(std::sin(angle) * magnitude);
    }
  }
}

RopeFrequencies make_rope_frequencies(int64_t rotary_dim, double theta, const RopeScaling& s) {
  RopeFrequencies f;
  const int64_t n_pairs = rotary_dim / 2;
  f.inv_freq.resize(static_cast<size_t>(n_pairs));
  for (int64_t i = 0; i < n_pairs; ++i)
    f.inv_freq[i] = 1.0 / std::pow(theta, static_cast<double>(2 * i) / static_cast<double>(rotary_dim));

  switch (s.type) {
    case RopeScalingType::kNone:
      break;
    case RopeScalingType::kLinear:
      f.position_scale = 1.0 / s.factor;
      break;
    case RopeScalingType::kLlama3: {
      const double original = static_cast<double>(s.original_max_position_embeddings);
      const double low_freq_wavelen = original / s.low_freq_factor;
      const double high_freq_wavelen = original / s.high_freq_factor;
      for (double& freq : f.inv_freq) {
        const double wavelen = 2.0 * M_PI / freq;
        if (wavelen > low_freq_wavelen) {
          freq /= s.factor;  // long wavelengths: fully interpolated
        } else if (wavelen >= high_freq_wavelen) {
          // In between: blend interpolated and original smoothly.
          const double smooth = (original / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
          freq = (1.0 - smooth) * freq / s.factor + smooth * freq;
        }
      }
      break;
    }
    case RopeScalingType::kYarn: {
      const double original = static_cast<double>(s.original_max_position_embeddings);
      double low = std::floor(yarn_correction_dim(s.beta_fast, rotary_dim, theta, original));
      double high = std::ceil(yarn_correction_dim(s.beta_slow, rotary_dim, theta, original));
      low = std::max(low, 0.0);
      high = std::min(high, static_cast<double>(rotary_dim - 1));
      if (low == high) high += 0.001;  // avoid a zero-width ramp
      for (int64_t i = 0; i < n_pairs; ++i) {
        const double ramp = std::clamp((static_cast<double>(i) - low) / (high - low), 0.0, 1.0);
        const double keep = 1.0 - ramp;  // 1: original frequency, 0: interpolated
        const double extrapolated = f.inv_freq[i];
        const double interpolated = extrapolated / s.factor;
        f.inv_freq[i] = interpolated * (1.0 - keep) + extrapolated * keep;
      }
      f.magnitude = yarn_mscale(s.factor, s.mscale) / yarn_mscale(s.factor, s.mscale_all_dim);
      break;
    }
  }
  if (!s.freq_factors.empty()) {
    DSEEK_CHECK(static_cast<int64_t>(s.freq_factors.size()) == n_pairs);
    for (int64_t i = 0; i < n_pairs; ++i) f.inv_freq[i] /= s.freq_factors[i];
  }
  return f;
}

double yarn_softmax_scale_factor(const RopeScaling& s) {
  if (s.type != RopeScalingType::kYarn || s.mscale_all_dim == 0.0) return 1.0;
  const double m = yarn_mscale(s.factor, s.mscale_all_dim);
  return m * m;
}

}  // namespace dseek
