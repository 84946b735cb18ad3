// RoPE frequencies and YaRN's attention-scale correction against values
// derived by hand from the published formulas (REFERENCE-FACTS.md §1.2).
#include "model/rope.h"

#include <gtest/gtest.h>

#include <cmath>

namespace dseek {
namespace {

RopeScaling v3_yarn(double mscale) {
  RopeScaling s;
  s.type = RopeScalingType::kYarn;
  s.factor = 40;
  s.original_max_position_embeddings = 4096;
  s.beta_fast = 32;
  s.beta_slow = 1;
  s.mscale = mscale;
  s.mscale_all_dim = mscale;
  return s;
}

TEST(Rope, PlainFrequencies) {
  RopeFrequencies f = make_rope_frequencies(8, 10000.0, RopeScaling{});
  ASSERT_EQ(f.n_pairs(), 4);
  EXPECT_DOUBLE_EQ(f.inv_freq[0], 1.0);
  EXPECT_NEAR(f.inv_freq[1], 0.1, 1e-15);
  EXPECT_NEAR(f.inv_freq[3], 1e-3, 1e-15);
  int64_t pos = 7;
  float c[4], s[4];
  f.fill(&pos, 1, c, s);
  EXPECT_FLOAT_EQ(c[0], static_cast<float>(std::cos(7.0)));
  EXPECT_FLOAT_EQ(s[1], static_cast<float>(std::sin(0.7)));
}

TEST(Rope, YarnBlendsOnlyBetweenTheCorrectionDims) {
  // dim 64, theta 1e4, original 4096, beta 32/1: correction range [10, 23].
  RopeFrequencies f = make_rope_frequencies(64, 10000.0, v3_yarn(1.0));
  RopeFrequencies plain = make_rope_frequencies(64, 10000.0, RopeScaling{});
  for (int i = 0; i <= 10; ++i) EXPECT_DOUBLE_EQ(f.inv_freq[i], plain.inv_freq[i]) << i;
  for (int i = 23; i < 32; ++i) EXPECT_NEAR(f.inv_freq[i], plain.inv_freq[i] / 40, 1e-18) << i;
  // Pair 16 sits 6/13 of the way along the ramp.
  const double ramp = 6.0 / 13.0;
  EXPECT_NEAR(f.inv_freq[16], plain.inv_freq[16] / 40 * ramp + plain.inv_freq[16] * (1 - ramp), 1e-15);
  EXPECT_DOUBLE_EQ(f.magnitude, 1.0);  // mscale == mscale_all_dim
}

TEST(Rope, YarnSoftmaxScale) {
  // V3: 192^-0.5 * (0.1*ln 40 + 1)^2 = 0.13523; V2 (0.707): 0.11472.
  EXPECT_NEAR(yarn_softmax_scale_factor(v3_yarn(1.0)) / std::sqrt(192.0), 0.13523, 5e-5);
  EXPECT_NEAR(yarn_softmax_scale_factor(v3_yarn(0.707)) / std::sqrt(192.0), 0.11472, 5e-5);
  RopeScaling none;
  EXPECT_EQ(yarn_softmax_scale_factor(none), 1.0);
  RopeScaling no_all_dim = v3_yarn(1.0);
  no_all_dim.mscale_all_dim = 0.0;
  EXPECT_EQ(yarn_softmax_scale_factor(no_all_dim), 1.0);
  // ... and then cos/sin carry mscale(mscale)/mscale(0) instead.
  EXPECT_NEAR(make_rope_frequencies(64, 10000.0, no_all_dim).magnitude, 0.1 * std::log(40.0) + 1, 1e-12);
}

TEST(Rope, Llama3Scaling) {
  // Llama 3.1: factor 8, low 1, high 4, original 8192, theta 5e5, head 128.
  RopeScaling s;
  s.type = RopeScalingType::kLlama3;
  s.factor = 8;
  s.low_freq_factor = 1;
  s.high_freq_factor = 4;
  s.original_max_position_embeddings = 8192;
  RopeFrequencies f = make_rope_frequencies(128, 500000.0, s);
  RopeFrequencies plain = make_rope_frequencies(128, 500000.0, RopeScaling{});
  for (int i = 0; i < 64; ++i) {
    const double wavelen = 2 * M_PI / plain.inv_freq[i];
    if (wavelen < 8192.0 / 4) {
      EXPECT_DOUBLE_EQ(f.inv_freq[i], plain.inv_freq[i]) << i;  // high frequencies kept
    } else if (wavelen > 8192.0) {
      EXPECT_DOUBLE_EQ(f.inv_freq[i], plain.inv_freq[i] / 8) << i;  // low frequencies interpolated
    } else {
      const double smooth = (8192.0 / wavelen - 1) / 3;
      EXPECT_NEAR(f.inv_freq[i], (1 - smooth) * plain.inv_freq[i] / 8 + smooth * plain.inv_freq[i], 1e-15) << i;
    }
  }
}

TEST(Rope, LinearScalingDividesPositions) {
  RopeScaling s;
  s.type = RopeScalingType::kLinear;
  s.factor = 4;
  RopeFrequencies f = make_rope_frequencies(4, 100000.0, s);
  int64_t pos = 8;
  float c[2], sn[2];
  f.fill(&pos, 1, c, sn);
  EXPECT_FLOAT_EQ(c[0], static_cast<float>(std::cos(2.0)));
}

}  // namespace
}  // namespace dseek
