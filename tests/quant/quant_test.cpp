// The block formats against llama.cpp: (1) byte-exactness of the reference
// quantizers with the files llama-quantize --pure made from the fixtures'
// f32 GGUFs (tests/data/llamacpp/*/model-{f32,q8_0,q4_0}.gguf); (2) the
// round-trip error bounds of llama.cpp's own test-quantize-fns on its
// synthetic data, for every type; (3) structural per-element bounds for the
// 32-element types.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <vector>

#include "formats/gguf.h"
#include "quant/quant.h"
#include "test_data.h"

namespace dseek {
namespace {

const char* kModels[] = {"deepseek2-v2-micro", "deepseek2-v3-micro", "deepseek2-v3-micro-fp8", "llama-micro",
                         "qwen2-micro"};

std::vector<uint8_t> quantize_all(DType t, const float* x, int64_t n) {
  auto bytes = row_bytes(t, n);
  EXPECT_TRUE(bytes.has_value());
  std::vector<uint8_t> out(static_cast<size_t>(bytes.value_or(0)));
  quant::quantize(t, x, out.data(), n);
  return out;
}

// For every tensor llama-quantize quantized: our quantizer on the f32
// file's tensor gives the same bytes.
void check_byte_exact(const std::string& model, const std::string& type_file, DType type) {
  const std::string dir = testing::repo_path("tests/data/llamacpp/" + model + "/");
  auto f32 = open_gguf(dir + "model-f32.gguf");
  ASSERT_TRUE(f32.ok()) << f32.error().message;
  auto q = open_gguf(dir + type_file);
  ASSERT_TRUE(q.ok()) << q.error().message;
  auto f32_tensors = f32->tensors();
  ASSERT_TRUE(f32_tensors.ok());
  auto q_tensors = q->tensors();
  ASSERT_TRUE(q_tensors.ok());
  std::map<std::string, Tensor> by_name;
  for (const Tensor& t : *f32_tensors) by_name[t.name] = t;
  int compared = 0;
  for (const Tensor& t : *q_tensors) {
    const Tensor& src = by_name.at(t.name);
    ASSERT_EQ(src.dtype, DType::F32) << t.name;
    ASSERT_EQ(src.numel(), t.numel()) << t.name;
    if (t.dtype == DType::F32) {
      EXPECT_EQ(0, std::memcmp(src.data, t.data, static_cast<size_t>(t.n_bytes))) << t.name;
      continue;
    }
    ASSERT_EQ(t.dtype, type) << t.name;
    std::vector<float> x(static_cast<size_t>(src.numel()));
    std::memcpy(x.data(), src.data, 4 * x.size());
    const std::vector<uint8_t> ours = quantize_all(type, x.data(), src.numel());
    ASSERT_EQ(static_cast<int64_t>(ours.size()), t.n_bytes) << t.name;
    size_t first_diff = ours.size();
    for (size_t i = 0; i < ours.size(); ++i)
      if (ours[i] != t.data[i]) {
        first_diff = i;
        break;
      }
    EXPECT_EQ(first_diff, ours.size()) << model << " " << t.name << ": first differing byte " << first_diff;
    ++compared;
  }
  EXPECT_GT(compared, 10) << model;
}

TEST(QuantLlamaCpp, Q8_0ByteExactWithLlamaQuantize) {
  for (const char* m : kModels) check_byte_exact(m, "model-q8_0.gguf", DType::Q8_0);
}

TEST(QuantLlamaCpp, Q4_0ByteExactWithLlamaQuantize) {
  for (const char* m : {"deepseek2-v2-micro", "deepseek2-v3-micro", "deepseek2-v3-micro-fp8"})
    check_byte_exact(m, "model-q4_0.gguf", DType::Q4_0);
}

// llama.cpp's test-quantize-fns: data 0.1 + 2 cos(i + offset), 4096 values;
// error = sqrt(sum of squared differences) / n.
float llamacpp_total_error(DType t) {
  const int64_t n = 32 * 128;
  std::vector<float> x(n), y(n);
  for (int64_t i = 0; i < n; ++i) x[i] = 0.1f + 2.0f * std::cos(static_cast<float>(i));
  const std::vector<uint8_t> q = quantize_all(t, x.data(), n);
  quant::dequantize(t, q.data(), y.data(), n);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += (static_cast<double>(x[i]) - y[i]) * (static_cast<double>(x[i]) - y[i]);
  return static_cast<float>(std::sqrt(sum) / static_cast<double>(n));
}

TEST(QuantRoundTrip, WithinLlamaCppTestBounds) {
  // MAX_QUANTIZATION_TOTAL_ERROR (0.002), _2BITS (0.0075), _3BITS (0.004).
  struct Case {
    DType t;
    float bound;
  } cases[] = {{DType::Q8_0, 0.002f}, {DType::Q4_0, 0.002f}, {DType::Q4_1, 0.002f}, {DType::Q5_0, 0.002f},
               {DType::Q5_1, 0.002f}, {DType::Q2_K, 0.0075f}, {DType::Q3_K, 0.004f}, {DType::Q4_K, 0.002f},
               {DType::Q5_K, 0.002f}, {DType::Q6_K, 0.002f},  {DType::F16, 0.002f},  {DType::BF16, 0.002f}};
  for (const Case& c : cases) {
    const float err = llamacpp_total_error(c.t);
    EXPECT_LT(err, c.bound) << dtype_info(c.t).name;
    EXPECT_GT(err, 0.0f) << dtype_info(c.t).name;  // a lossy format that loses nothing is suspicious
  }
}

// More bits, less error: relative RMS error on Gaussian rows must fall
// with the bit width and stay within what each format can represent.
TEST(QuantRoundTrip, GaussianErrorOrderedByBits) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t n = 256 * 64;
  std::vector<float> x(n), y(n);
  for (float& v : x) v = normal(rng);
  auto rel_rms = [&](DType t) {
    const std::vector<uint8_t> q = quantize_all(t, x.data(), n);
    quant::dequantize(t, q.data(), y.data(), n);
    double e = 0, s = 0;
    for (int64_t i = 0; i < n; ++i) {
      e += (x[i] - y[i]) * (x[i] - y[i]);
      s += x[i] * x[i];
    }
    return std::sqrt(e / s);
  };
  const double q2 = rel_rms(DType::Q2_K), q3 = rel_rms(DType::Q3_K), q4 = rel_rms(DType::Q4_K),
               q5 = rel_rms(DType::Q5_K), q6 = rel_rms(DType::Q6_K), q8 = rel_rms(DType::Q8_0);
  EXPECT_LT(q8, q6);
  EXPECT_LT(q6, q5);
  EXPECT_LT(q5, q4);
  EXPECT_LT(q4, q3);
  EXPECT_LT(q3, q2);
  // Roughly 2^-bits of the range per step: generous ceilings.
  EXPECT_LT(q2, 0.45);
  EXPECT_LT(q3, 0.25);
  EXPECT_LT(q4, 0.12);
  EXPECT_LT(q5, 0.06);
  EXPECT_LT(q6, 0.03);
  EXPECT_LT(q8, 0.01);
  EXPECT_LT(rel_rms(DType::Q4_0), 0.15);
  EXPECT_LT(rel_rms(DType::Q5_0), 0.08);
}

// The 32-element formats bound every element: Q8_0 by half a step (plus the
// f16 rounding of the scale), Q4_0 by one step (the value opposite the
// block's extreme may clamp at +7).
TEST(QuantRoundTrip, PerElementBoundsOf32BlockTypes) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> uni(-3.0f, 3.0f);
  const int64_t n = 32 * 200;
  std::vector<float> x(n), y(n);
  for (float& v : x) v = uni(rng);
  for (DType t : {DType::Q8_0, DType::Q4_0, DType::Q5_0}) {
    const std::vector<uint8_t> q = quantize_all(t, x.data(), n);
    quant::dequantize(t, q.data(), y.data(), n);
    const float levels = t == DType::Q8_0 ? 127.0f : t == DType::Q4_0 ? 8.0f : 16.0f;
    const float steps = t == DType::Q8_0 ? 0.5f : 1.0f;
    for (int64_t b = 0; b < n / 32; ++b) {
      float amax = 0;
      for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[b * 32 + j]));
      const float d = amax / levels;
      for (int j = 0; j < 32; ++j)
        ASSERT_LE(std::fabs(x[b * 32 + j] - y[b * 32 + j]), d * steps * 1.01f + levels * d * 1e-3f)
            << dtype_info(t).name << " block " << b;
    }
  }
}

TEST(QuantRoundTrip, ZeroBlocksStayZero) {
  std::vector<float> x(256, 0.0f), y(256, 1.0f);
  for (DType t : {DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q2_K, DType::Q3_K,
                  DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
    const std::vector<uint8_t> q = quantize_all(t, x.data(), 256);
    quant::dequantize(t, q.data(), y.data(), 256);
    for (float v : y) ASSERT_EQ(v, 0.0f) << dtype_info(t).name;
  }
}

}  // namespace
}  // namespace dseek
