// Parameter counts from published configs against the figures DeepSeek and
// the Hugging Face model cards publish.
#include "model/param_count.h"

#include <gtest/gtest.h>

#include "model/published_configs.h"

namespace dseek {
namespace {

ParameterCount count(const char* json) {
  auto c = parse_model_config(json, "config.json");
  EXPECT_TRUE(c.ok()) << c.error().message;
  return count_parameters(c.value());
}

TEST(ParameterCount, DeepseekV2Lite) {
  // DeepSeek-V2-Lite model card: 15.7B total, 2.4B activated.
  ParameterCount p = count(testing::kDeepseekV2LiteConfig);
  EXPECT_NEAR(p.total / 1e9, 15.7, 0.05);
  EXPECT_NEAR(p.active / 1e9, 2.4, 0.06);
  EXPECT_EQ(p.mtp, 0);
}

TEST(ParameterCount, DeepseekV2) {
  // DeepSeek-V2 paper: 236B total, 21B activated.
  ParameterCount p = count(testing::kDeepseekV2Config);
  EXPECT_NEAR(p.total / 1e9, 236, 0.5);
  EXPECT_NEAR(p.active / 1e9, 21, 0.5);
}

TEST(ParameterCount, DeepseekV3) {
  // DeepSeek-V3 report: 671B total, 37B activated; the HF checkpoint holds
  // "685B" with the MTP module (684.5B: its layer plus copies of embedding
  // and head; 11.5B of it unique).
  ParameterCount p = count(testing::kDeepseekV3Config);
  EXPECT_NEAR(p.total / 1e9, 671, 0.5);
  EXPECT_NEAR(p.active / 1e9, 37, 0.5);
  EXPECT_NEAR((p.total + p.mtp) / 1e9, 685, 0.6);
  EXPECT_NEAR((p.mtp - 2 * 129280.0 * 7168) / 1e9, 11.5, 0.2);
}

TEST(ParameterCount, DenseDistills) {
  // R1-Distill-Qwen-1.5B: 1.78B (untied embeddings); R1-Distill-Llama-8B: 8.03B.
  EXPECT_NEAR(count(testing::kR1DistillQwen1_5BConfig).total / 1e9, 1.78, 0.01);
  ParameterCount llama = count(testing::kR1DistillLlama8BConfig);
  EXPECT_NEAR(llama.total / 1e9, 8.03, 0.01);
  EXPECT_EQ(llama.active, llama.total - 128256LL * 4096);
}

}  // namespace
}  // namespace dseek
