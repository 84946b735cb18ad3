// The auxiliary-loss-free load-balancing rule (DeepSeek-V3 paper, section
// 2.1.2): at the end of each step, the bias of an overloaded expert
// decreases by gamma and that of an underloaded one increases by gamma.
#include <gtest/gtest.h>

#include "train/moe.h"

namespace dseek::train {
namespace {

TEST(ExpertBiasRule, MovesEachBiasByGammaTowardBalance) {
  // 4 experts, 20 assignments: the mean is 5.
  std::vector<int64_t> counts{9, 5, 1, 5};
  std::vector<float> bias{0.5f, -0.25f, 0.0f, 0.125f};
  update_expert_bias(counts, 0.125f, bias.data());
  EXPECT_EQ(bias, (std::vector<float>{0.375f, -0.25f, 0.125f, 0.125f}));
}

TEST(ExpertBiasRule, MeanNeedNotBeAnInteger) {
  // mean 10/3: 3 is under, 4 is over, whatever the rounding of 10/3.
  std::vector<int64_t> counts{3, 3, 4};
  std::vector<float> bias(3, 0.0f);
  update_expert_bias(counts, 1.0f, bias.data());
  EXPECT_EQ(bias, (std::vector<float>{1.0f, 1.0f, -1.0f}));
}

TEST(ExpertBiasRule, SizeOfTheMoveDoesNotDependOnTheImbalance) {
  std::vector<int64_t> slightly{11, 9}, wildly{1000, 0};
  std::vector<float> a(2, 0.0f), b(2, 0.0f);
  update_expert_bias(slightly, 0.01f, a.data());
  update_expert_bias(wildly, 0.01f, b.data());
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, (std::vector<float>{-0.01f, 0.01f}));
}

TEST(ExpertBiasRule, BalancedOrEmptyLeavesTheBiasAlone) {
  std::vector<int64_t> even{4, 4, 4}, none{0, 0, 0};
  std::vector<float> bias{0.1f, 0.2f, 0.3f};
  update_expert_bias(even, 0.5f, bias.data());
  update_expert_bias(none, 0.5f, bias.data());
  EXPECT_EQ(bias, (std::vector<float>{0.1f, 0.2f, 0.3f}));
}

TEST(ExpertBiasRule, LoadImbalanceIsMaxOverMean) {
  EXPECT_DOUBLE_EQ(load_imbalance({5, 5, 5, 5}), 1.0);
  EXPECT_DOUBLE_EQ(load_imbalance({8, 4, 4, 4}), 8.0 / 5.0);
  EXPECT_DOUBLE_EQ(load_imbalance({20, 0, 0, 0}), 4.0);
}

}  // namespace
}  // namespace dseek::train
