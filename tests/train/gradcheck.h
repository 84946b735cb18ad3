// Finite-difference checks: a scalar function of some f32 buffers (the sum
// of an op's output times fixed random weights) is differentiated
// numerically, element by element, and compared with the op's backward.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "train/train_tolerances.h"

namespace dseek::testing {

inline std::vector<float> random_values(size_t n, std::mt19937& rng, float scale = 1.0f) {
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

// sum_i out[i] * r[i] in double.
inline double weighted_sum(const float* out, const std::vector<float>& r) {
  double s = 0.0;
  for (size_t i = 0; i < r.size(); ++i) s += static_cast<double>(out[i]) * r[i];
  return s;
}

struct Checked {
  std::string name;
  float* values;            // perturbed in place (restored after)
  const float* analytic;    // the backward's gradient
  size_t n;
  bool may_be_unused = false;  // e.g. an expert no token chose: gradient zero, and rightly so
};

// Central differences f(x+h) - f(x-h) / 2h for up to `max_elements` elements
// of each buffer; the largest difference must stay within
// kFiniteDifferenceRelative of the largest gradient of that buffer.
// `smooth`, when given, says whether the last call of f stayed on the same
// piece of a piecewise-smooth function (same expert choices); elements whose
// perturbation crosses a boundary are skipped.
inline void expect_gradients(const std::function<double()>& f, const std::vector<Checked>& buffers, double h = 3e-3,
                             size_t max_elements = 64, const std::function<bool()>& smooth = {}) {
  for (const Checked& b : buffers) {
    double max_grad = 0.0, max_diff = 0.0;
    size_t worst = 0;
    const size_t stride = std::max<size_t>(1, b.n / max_elements);
    for (size_t i = 0; i < b.n; i += stride) {
      const float saved = b.values[i];
      b.values[i] = saved + static_cast<float>(h);
      const double up = f();
      const bool up_smooth = !smooth || smooth();
      b.values[i] = saved - static_cast<float>(h);
      const double down = f();
      const bool down_smooth = !smooth || smooth();
      b.values[i] = saved;
      if (!up_smooth || !down_smooth) continue;
      // The step actually taken, after rounding to f32.
      const double step = static_cast<double>(saved + static_cast<float>(h)) - static_cast<double>(saved - static_cast<float>(h));
      const double numeric = (up - down) / step;
      max_grad = std::max(max_grad, std::fabs(numeric));
      const double diff = std::fabs(numeric - b.analytic[i]);
      if (diff > max_diff) {
        max_diff = diff;
        worst = i;
      }
    }
    if (!b.may_be_unused) EXPECT_GT(max_grad, 0.0) << b.name << ": the function does not depend on it";
    EXPECT_LE(max_diff, kFiniteDifferenceRelative * max_grad)
        << b.name << ": element " << worst << " analytic " << b.analytic[worst] << ", max|diff| " << max_diff
        << ", max|grad| " << max_grad;
  }
}

}  // namespace dseek::testing
