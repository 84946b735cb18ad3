// The engine against the PyTorch reference (tools/reference/model.py, float64
// on the same dequantized weights): logits at all 80 positions of a prompt that
// runs past original_max_position_embeddings (YaRN active), and a 32-token
// greedy continuation through the KV cache. Run by ctest once with the
// fastest kernels and once with DSEEK_KERNELS=reference.
#include <gtest/gtest.h>

#include "engine/greedy.h"
#include "kernels/kernels.h"
#include "model/tolerances.h"
#include "model_runner.h"
#include "test_data.h"

namespace dseek {
namespace {

struct Case {
  std::string name;
  MlaMode mode;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name << (c.mode == MlaMode::kNaive ? " (naive MLA)" : ""); }

class GoldenTest : public ::testing::TestWithParam<Case> {};

TEST_P(GoldenTest, LogitsAtEveryPositionAndGreedyContinuation) {
  const Case& c = GetParam();
  testing::Golden golden = testing::read_golden(c.name);
  ASSERT_GE(golden.tokens.size(), 64u);
  testing::LoadedModel m = testing::load_or_fail(golden.model_path, c.mode);
  ASSERT_TRUE(m.model);
  ASSERT_EQ(m.vocab(), golden.cols);
  std::vector<float> logits = testing::prompt_logits(*m.model, golden.tokens);
  testing::Deviation d = testing::deviation(logits, golden.logits);
  std::printf("%s (%s kernels): max|diff| %.3g, max|logit| %.3g, relative %.3g\n", c.name.c_str(),
              kernels::active_table().name, d.max_abs_diff, d.max_abs_ref, d.relative());
  EXPECT_LE(d.max_abs_diff, testing::kGoldenRelative * d.max_abs_ref);

  auto cache = m.model->new_cache(static_cast<int64_t>(golden.tokens.size() + golden.greedy.size()));
  auto greedy = generate_greedy(*m.model, *cache, golden.tokens, static_cast<int64_t>(golden.greedy.size()));
  ASSERT_TRUE(greedy.ok()) << greedy.error().message;
  EXPECT_EQ(greedy.value(), golden.greedy);
}

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const char* name : {"deepseek-v2-lite-tiny", "deepseek-v2-tiny", "deepseek-v3-tiny-fp8"}) {
    out.push_back({name, MlaMode::kAbsorbed});
    out.push_back({name, MlaMode::kNaive});
  }
  for (const char* name : {"qwen2-tiny", "llama3-tiny", "deepseek-coder-tiny"}) out.push_back({name, MlaMode::kAbsorbed});
  return out;
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string n = info.param.name + (info.param.mode == MlaMode::kNaive ? "_naive" : "");
  for (char& ch : n)
    if (ch == '-') ch = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(TinyModels, GoldenTest, ::testing::ValuesIn(cases()), case_name);

}  // namespace
}  // namespace dseek
