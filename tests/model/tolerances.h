// Every tolerance the model tests use, with its reason.
#pragma once

namespace dseek::testing {

// Engine (f32 activations, f32 accumulation) vs the float64 PyTorch reference
// on the same dequantized weights: the bound, max|diff| <= 1e-4 *
// max|logit| at every position. Observed: ~1e-6.
inline constexpr double kGoldenRelative = 1e-4;

// Two ways through the same engine (absorbed vs naive MLA, batched vs
// incremental, several sequences vs one): only summation order differs.
inline constexpr double kSameEngineRelative = 1e-5;

// llama.cpp fixtures, tier "f32 engine" of tests/data/llamacpp/README.md
// (~100x llama.cpp's own batch-vs-sequential spread).
inline constexpr double kFixtureMaxRelRms = 1e-4;
inline constexpr double kFixtureMinCos = 0.9999999;
inline constexpr double kFixtureMaxKl = 1e-7;
inline constexpr double kFixtureTop1Margin = 1e-3;  // top-1 must agree where llama.cpp's margin is at least this

}  // namespace dseek::testing
