// Comparing logits with a reference, and the tolerances of the llama.cpp
// fixtures in one place (tests/data/llamacpp/README.md, "Tolerances a correct
// engine should meet"; each fixture.json repeats them).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dseek::testing {

struct LogitsComparison {
  int64_t rows = 0;
  std::vector<double> rel_rms;  // per position: ||test - ref|| / ||ref||
  double max_rel_rms = 0, median_rel_rms = 0, min_cos = 1, max_kl = 0, mean_kl = 0;
  double fraction_rel_rms_le_5pct = 0;
  double top1_agreement = 0;
  // Positions whose argmax differs although the reference's top1-top2 margin is at least 1e-3.
  int64_t top1_mismatches_with_margin = 0;
  std::string summary() const;
};

// ref and test: rows x vocab, row-major. KL is KL(ref || test) of the softmax, in nats.
LogitsComparison compare_logits(const float* ref, const float* test, int64_t rows, int64_t vocab);

namespace tolerance {
// Tier 1, an f32 engine against llama.cpp on the f32 GGUF: about 100x
// llama.cpp's own batch-vs-sequential spread (~1e-6 relative).
inline constexpr double kF32MaxRelRms = 1e-4;
inline constexpr double kF32MinCos = 0.9999999;
inline constexpr double kF32MaxKl = 1e-7;
// Tier 3, a quantized GGUF against llama.cpp's logits for the same file:
// llama.cpp also quantizes activations to Q8_0 for its quantized matmuls
// (dseek does not yet), ~1-2% RMS everywhere and an occasional expert flip.
inline constexpr double kQuantMedianRelRms = 0.05;
inline constexpr double kQuantMinFractionLe5Pct = 0.85;
inline constexpr double kQuantMeanKl = 1e-2;
inline constexpr double kQuantMinTop1 = 0.90;
// dseek against itself on two files of the same weights (a converted GGUF vs
// the HF folder): only float summation order differs.
inline constexpr double kSameWeightsMaxRelRms = 1e-5;
}  // namespace tolerance

}  // namespace dseek::testing
