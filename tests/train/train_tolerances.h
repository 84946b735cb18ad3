// The tolerances of the training tests, with their reasons.
#pragma once

namespace dseek::testing {

// The trainer (f32) against PyTorch autograd in float64 on the same f32
// weights: per tensor, max |grad - ref| <= 1e-4 * max |ref| (the bound).
inline constexpr double kGradRelative = 1e-4;

// Losses of 10 AdamW steps (f32 master weights against float64): within
// 1e-5, relative to max(1, |loss|) (the bound; losses here are 5..25).
inline constexpr double kStepLossRelative = 1e-5;

// A single forward's losses against the float64 reference.
inline constexpr double kLossRelative = 1e-6;

// Finite differences in double precision around f32 ops: central
// differences with h = 1e-3 on inputs of order 1 (error ~h^2 plus f32
// rounding of the forward, ~1e-7 / h).
inline constexpr double kFiniteDifferenceRelative = 2e-3;

}  // namespace dseek::testing
