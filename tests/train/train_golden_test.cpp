// The trainer against PyTorch autograd (tools/reference/train_reference.py):
// every parameter's gradient on one batch, and the losses of 10 AdamW steps
// with warm-up + cosine, clipping, accumulation and the expert-bias rule.
#include <gtest/gtest.h>

#include <cmath>

#include "formats/safetensors.h"
#include "train/train_golden.h"
#include "train/train_step.h"
#include "train/train_tolerances.h"

namespace dseek::testing {
namespace {

class TrainGoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TrainGoldenTest, GradientsMatchAutograd) {
  TrainGolden g = load_train_golden(GetParam());
  ASSERT_TRUE(g.model);
  const auto& batch = g.golden.at("grad_batch");
  const int64_t n_seq = static_cast<int64_t>(batch.size());
  const int64_t seq_len = static_cast<int64_t>(batch[0].size()) - 1;
  std::vector<int32_t> tokens = flatten(batch);
  ThreadPool pool(2);
  train::ParamStore& params = g.model->params();
  params.zero_grad();
  train::Losses l = g.model->forward_backward(pool, tokens.data(), n_seq, seq_len, 1.0f);
  const auto& ref = g.golden.at("grad_losses");
  EXPECT_NEAR(l.main, ref.at("main").get<double>(), kLossRelative * ref.at("main").get<double>());
  EXPECT_NEAR(l.mtp, ref.at("mtp").get<double>(), kLossRelative * std::max(1.0, ref.at("mtp").get<double>()));
  EXPECT_NEAR(l.balance, ref.at("balance").get<double>(), kLossRelative);

  auto file = open_safetensors(g.dir + "/grads.safetensors");
  ASSERT_TRUE(file) << file.error().message;
  int checked = 0;
  double worst = 0.0;
  std::string worst_name;
  for (const Tensor& t : file->tensors) {
    const train::Param* p = params.find(t.name);
    ASSERT_NE(p, nullptr) << "no parameter " << t.name;
    ASSERT_EQ(t.numel(), p->numel()) << t.name;
    const float* want = reinterpret_cast<const float*>(t.data);
    double max_ref = 0.0, max_diff = 0.0;
    for (int64_t i = 0; i < t.numel(); ++i) {
      max_ref = std::max(max_ref, std::fabs(static_cast<double>(want[i])));
      max_diff = std::max(max_diff, std::fabs(static_cast<double>(p->grad[i]) - want[i]));
    }
    if (max_ref == 0.0) {
      EXPECT_EQ(max_diff, 0.0) << t.name << ": the reference gradient is zero (an expert no token chose)";
    } else {
      EXPECT_LE(max_diff, kGradRelative * max_ref) << t.name << ": max|diff| " << max_diff << " max|ref| " << max_ref;
      if (max_diff / max_ref > worst) {
        worst = max_diff / max_ref;
        worst_name = t.name;
      }
    }
    ++checked;
  }
  int trainable = 0;
  for (const train::Param* p : params.all()) trainable += p->trainable;
  EXPECT_EQ(checked, trainable) << "every trainable tensor has a reference gradient";
  std::printf("[ info ] %s: %d gradients, worst relative difference %.2e (%s)\n", GetParam().c_str(), checked, worst,
              worst_name.c_str());
}

TEST_P(TrainGoldenTest, TenAdamWStepsMatchTorch) {
  TrainGolden g = load_train_golden(GetParam());
  ASSERT_TRUE(g.model);
  const auto& opt = g.golden.at("optimizer");
  train::AdamWSettings settings;
  settings.beta1 = opt.at("beta1").get<double>();
  settings.beta2 = opt.at("beta2").get<double>();
  settings.eps = opt.at("eps").get<double>();
  settings.weight_decay = opt.at("weight_decay").get<double>();
  train::AdamW adamw(g.model->params(), settings);
  train::LrSchedule schedule{opt.at("lr").get<double>(), opt.at("min_lr").get<double>(),
                             opt.at("warmup").get<int64_t>(), opt.at("steps").get<int64_t>()};
  const auto& steps = g.golden.at("step_batches");
  train::StepSettings s;
  s.n_seq = static_cast<int64_t>(steps[0][0].size());
  s.seq_len = static_cast<int64_t>(steps[0][0][0].size()) - 1;
  s.grad_clip = opt.at("clip").get<double>();
  s.bias_update_speed = opt.at("bias_update_speed").get<float>();
  ThreadPool pool(2);
  const auto& want = g.golden.at("steps");
  double worst = 0.0;
  for (size_t step = 0; step < steps.size(); ++step) {
    std::vector<std::vector<int32_t>> micro;
    std::vector<const int32_t*> ptrs;
    for (const auto& b : steps[step]) micro.push_back(flatten(b));
    for (const auto& m : micro) ptrs.push_back(m.data());
    train::StepResult r = train::train_step(pool, *g.model, adamw, schedule, static_cast<int64_t>(step), ptrs, s);
    ASSERT_TRUE(r.error.empty()) << r.error;
    const double ref = want[step].at("loss").get<double>();
    const double diff = std::fabs(r.loss - ref) / std::max(1.0, std::fabs(ref));
    worst = std::max(worst, diff);
    EXPECT_LE(diff, kStepLossRelative) << "step " << step << ": loss " << r.loss << " reference " << ref;
    EXPECT_NEAR(r.lr, want[step].at("lr").get<double>(), 1e-12) << "step " << step;
    EXPECT_NEAR(r.grad_norm, want[step].at("grad_norm").get<double>(), 1e-4 * want[step].at("grad_norm").get<double>())
        << "step " << step;
    // Router choices: the same token counts per expert as the reference.
    const auto& counts = want[step].at("counts");
    ASSERT_EQ(r.expert_counts.size(), counts.size());
    size_t i = 0;
    for (auto it = counts.begin(); it != counts.end(); ++it, ++i)
      EXPECT_EQ(r.expert_counts[i], it->get<std::vector<int64_t>>()) << "step " << step << " layer " << it.key();
  }
  for (const auto& [name, values] : g.golden.at("final_bias").items()) {
    const train::Param* p = g.model->params().find(name);
    ASSERT_NE(p, nullptr) << name;
    auto v = values.get<std::vector<double>>();
    for (size_t e = 0; e < v.size(); ++e) EXPECT_NEAR(p->value[e], v[e], 1e-6) << name << " expert " << e;
  }
  std::printf("[ info ] %s: 10 steps, loss %.5f -> %.5f, worst relative difference %.2e\n", GetParam().c_str(),
              want[0].at("loss").get<double>(), want[steps.size() - 1].at("loss").get<double>(), worst);
}

INSTANTIATE_TEST_SUITE_P(Tiny, TrainGoldenTest,
                         ::testing::Values("deepseek-v3-train", "deepseek-v2-lite-train", "llama-train",
                                           "qwen2-tied-train"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& c : s)
                             if (c == '-') c = '_';
                           return s;
                         });

}  // namespace
}  // namespace dseek::testing
