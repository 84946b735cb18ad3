#include "logits_compare.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace dseek::testing {

namespace {
int64_t argmax(const float* v, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (v[i] > v[best]) best = i;
  return best;
}
}  // namespace

LogitsComparison compare_logits(const float* ref, const float* test, int64_t rows, int64_t vocab) {
  LogitsComparison c;
  c.rows = rows;
  int64_t agree = 0, le5 = 0;
  double kl_sum = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const float* a = ref + r * vocab;
    const float* b = test + r * vocab;
    double diff2 = 0, ref2 = 0, test2 = 0, dot = 0;
    for (int64_t i = 0; i < vocab; ++i) {
      diff2 += (static_cast<double>(b[i]) - a[i]) * (static_cast<double>(b[i]) - a[i]);
      ref2 += static_cast<double>(a[i]) * a[i];
      test2 += static_cast<double>(b[i]) * b[i];
      dot += static_cast<double>(a[i]) * b[i];
    }
    const double rel = std::sqrt(diff2 / std::max(ref2, 1e-30));
    c.rel_rms.push_back(rel);
    c.max_rel_rms = std::max(c.max_rel_rms, rel);
    le5 += rel <= 0.05 ? 1 : 0;
    c.min_cos = std::min(c.min_cos, dot / std::sqrt(std::max(ref2 * test2, 1e-300)));
    // KL(ref || test) with log-sum-exp in double.
    double ma = a[0], mb = b[0];
    for (int64_t i = 1; i < vocab; ++i) {
      ma = std::max<double>(ma, a[i]);
      mb = std::max<double>(mb, b[i]);
    }
    double za = 0, zb = 0;
    for (int64_t i = 0; i < vocab; ++i) {
      za += std::exp(a[i] - ma);
      zb += std::exp(b[i] - mb);
    }
    const double lza = std::log(za) + ma, lzb = std::log(zb) + mb;
    double kl = 0;
    for (int64_t i = 0; i < vocab; ++i) {
      const double lpa = a[i] - lza, lpb = b[i] - lzb;
      kl += std::exp(lpa) * (lpa - lpb);
    }
    kl = std::max(kl, 0.0);
    c.max_kl = std::max(c.max_kl, kl);
    kl_sum += kl;
    const int64_t ta = argmax(a, vocab), tb = argmax(b, vocab);
    if (ta == tb) {
      ++agree;
    } else {
      double second = -INFINITY;
      for (int64_t i = 0; i < vocab; ++i)
        if (i != ta) second = std::max<double>(second, a[i]);
      if (a[ta] - second >= 1e-3) ++c.top1_mismatches_with_margin;
    }
  }
  std::vector<double> sorted = c.rel_rms;
  std::sort(sorted.begin(), sorted.end());
  c.median_rel_rms = rows ? (rows % 2 ? sorted[rows / 2] : 0.5 * (sorted[rows / 2 - 1] + sorted[rows / 2])) : 0;
  c.mean_kl = rows ? kl_sum / static_cast<double>(rows) : 0;
  c.top1_agreement = rows ? static_cast<double>(agree) / static_cast<double>(rows) : 0;
  c.fraction_rel_rms_le_5pct = rows ? static_cast<double>(le5) / static_cast<double>(rows) : 0;
  return c;
}

std::string LogitsComparison::summary() const {
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "max rel RMS %.3g, median rel RMS %.3g, min cos %.10f, max KL %.3g, mean KL %.3g, "
                "top-1 %.1f%%, positions with rel RMS <= 5%%: %.1f%%",
                max_rel_rms, median_rel_rms, min_cos, max_kl, mean_kl, 100 * top1_agreement,
                100 * fraction_rel_rms_le_5pct);
  return buf;
}

}  // namespace dseek::testing
