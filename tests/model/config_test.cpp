// config.json parsing: published configs read correctly; every unsupported or
// inconsistent value refused with a message naming the field.
#include "model/config.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "model/published_configs.h"

namespace dseek {
namespace {

ModelConfig parse_ok(const std::string& text) {
  auto r = parse_model_config(text, "config.json");
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? r.value() : ModelConfig{};
}

// Parses a published config with one field replaced (null removes it) and
// expects an error mentioning `fragment`.
void expect_error(const char* base, const std::string& field, const nlohmann::json& value, const std::string& fragment) {
  auto j = nlohmann::json::parse(base);
  if (value.is_null()) j.erase(field);
  else j[field] = value;
  auto r = parse_model_config(j.dump(), "some/config.json");
  ASSERT_FALSE(r.ok()) << "accepted " << field << " = " << value.dump();
  EXPECT_NE(r.error().message.find("some/config.json"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(fragment), std::string::npos) << r.error().message;
}

TEST(ModelConfig, ReadsDeepseekV3) {
  ModelConfig c = parse_ok(testing::kDeepseekV3Config);
  EXPECT_EQ(c.family, Family::kDeepseekV3);
  EXPECT_EQ(c.mla.q_lora_rank, 1536);
  EXPECT_EQ(c.mla.kv_lora_rank, 512);
  EXPECT_EQ(c.moe.n_routed_experts, 256);
  EXPECT_EQ(c.moe.topk_method, TopkMethod::kNoauxTc);
  EXPECT_EQ(c.moe.scoring_func, ScoringFunc::kSigmoid);
  EXPECT_TRUE(c.moe.norm_topk_prob);
  EXPECT_DOUBLE_EQ(c.moe.routed_scaling_factor, 2.5);
  EXPECT_EQ(c.num_nextn_predict_layers, 1);
  EXPECT_TRUE(c.fp8.enabled);
  EXPECT_EQ(c.fp8.block_rows, 128);
  EXPECT_EQ(c.rope_scaling.type, RopeScalingType::kYarn);
  EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 4096);
  EXPECT_FALSE(c.is_moe_layer(2));
  EXPECT_TRUE(c.is_moe_layer(3));
  EXPECT_EQ(c.bos_token_id, 0);
  ASSERT_EQ(c.eos_token_ids.size(), 1u);
}

TEST(ModelConfig, ReadsDeepseekV2LiteWithoutQLora) {
  ModelConfig c = parse_ok(testing::kDeepseekV2LiteConfig);
  EXPECT_EQ(c.family, Family::kDeepseekV2);
  EXPECT_EQ(c.mla.q_lora_rank, 0);
  EXPECT_EQ(c.moe.topk_method, TopkMethod::kGreedy);
  EXPECT_DOUBLE_EQ(c.rope_scaling.mscale_all_dim, 0.707);
}

TEST(ModelConfig, ReadsDenseFamilies) {
  ModelConfig q = parse_ok(testing::kR1DistillQwen1_5BConfig);
  EXPECT_EQ(q.family, Family::kQwen2);
  EXPECT_TRUE(q.qkv_bias);
  EXPECT_EQ(q.head_dim, 128);
  ModelConfig l = parse_ok(testing::kR1DistillLlama8BConfig);
  EXPECT_EQ(l.family, Family::kLlama);
  EXPECT_EQ(l.rope_scaling.type, RopeScalingType::kLlama3);
  EXPECT_EQ(l.rope_scaling.original_max_position_embeddings, 8192);
  EXPECT_FALSE(l.attention_bias);
}

TEST(ModelConfig, MoeLayerFrequency) {
  auto j = nlohmann::json::parse(testing::kDeepseekV2LiteConfig);
  j["moe_layer_freq"] = 2;
  j["first_k_dense_replace"] = 1;
  ModelConfig c = parse_ok(j.dump());
  EXPECT_FALSE(c.is_moe_layer(0));
  EXPECT_FALSE(c.is_moe_layer(1));
  EXPECT_TRUE(c.is_moe_layer(2));
  EXPECT_FALSE(c.is_moe_layer(3));
}

TEST(ModelConfig, RejectsBadInput) {
  const char* v3 = testing::kDeepseekV3Config;
  expect_error(v3, "model_type", "mistral", "model_type 'mistral' is not supported");
  expect_error(v3, "model_type", nullptr, "model_type: is required");
  expect_error(v3, "hidden_size", 0, "hidden_size: 0 is out of range");
  expect_error(v3, "hidden_size", "7168", "hidden_size: expected an integer");
  expect_error(v3, "vocab_size", -5, "vocab_size");
  expect_error(v3, "num_hidden_layers", nullptr, "num_hidden_layers: is required");
  expect_error(v3, "kv_lora_rank", nullptr, "kv_lora_rank: is required");
  expect_error(v3, "qk_rope_head_dim", 63, "must be even");
  expect_error(v3, "topk_method", "magic", "topk_method: 'magic' is not supported");
  expect_error(v3, "scoring_func", "relu", "scoring_func: 'relu' is not supported");
  expect_error(v3, "n_group", 7, "does not divide n_routed_experts");
  expect_error(v3, "topk_group", 9, "topk_group");
  expect_error(v3, "num_experts_per_tok", 300, "num_experts_per_tok");
  expect_error(v3, "hidden_act", "gelu", "hidden_act: 'gelu' is not supported");
  expect_error(v3, "rope_scaling", {{"type", "dynamic"}, {"factor", 2}}, "'dynamic' is not supported");
  expect_error(v3, "rope_scaling", {{"type", "yarn"}, {"factor", 0.5}}, "factor");
  expect_error(v3, "quantization_config", {{"quant_method", "gptq"}}, "'gptq' is not supported");
  expect_error(v3, "quantization_config", {{"quant_method", "fp8"}, {"weight_block_size", {0, 128}}}, "weight_block_size");
  expect_error(v3, "eos_token_id", 999999, "eos_token_id 999999 is not below vocab_size");
  expect_error(v3, "rms_norm_eps", "tiny", "rms_norm_eps: expected a number");
  expect_error(v3, "n_routed_experts", 65536, "absurd");
  const char* qwen = testing::kR1DistillQwen1_5BConfig;
  expect_error(qwen, "num_key_value_heads", 5, "does not divide num_attention_heads");
  expect_error(qwen, "use_sliding_window", true, "use_sliding_window");
  expect_error(qwen, "quantization_config", {{"quant_method", "fp8"}}, "only supported for deepseek_v3");
  const char* llama = testing::kR1DistillLlama8BConfig;
  expect_error(llama, "rope_scaling", {{"rope_type", "llama3"}, {"factor", 8}}, "original_max_position_embeddings");
  expect_error(llama, "mlp_bias", true, "mlp_bias");
}

TEST(ModelConfig, RejectsNonJsonAndNonObjects) {
  EXPECT_FALSE(parse_model_config("{", "config.json").ok());
  EXPECT_FALSE(parse_model_config("[1,2]", "config.json").ok());
  EXPECT_FALSE(parse_model_config("", "config.json").ok());
}

}  // namespace
}  // namespace dseek
