// A small, fully specified random generator (SplitMix64) for weight
// initialisation and batch sampling: the same seed gives the same numbers on
// every platform and standard library, which std::normal_distribution does
// not promise.
#pragma once

#include <cmath>
#include <cstdint>

namespace dseek::train {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
  // Uniform integer in [0, n) (n > 0); the modulo bias is below 2^-40 for the n used here.
  uint64_t below(uint64_t n) { return next() % n; }
  // Standard normal (Box-Muller; one value per call keeps the stream simple).
  double normal() {
    const double u1 = 1.0 - uniform();  // (0, 1]
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  uint64_t state_;
};

// A generator for one purpose derived from a seed and a few indices (step,
// micro-batch, ...): batches depend only on (seed, step), so a resumed run
// draws exactly what the uninterrupted one would have.
inline uint64_t mix_seed(uint64_t seed, uint64_t a, uint64_t b = 0, uint64_t c = 0) {
  Rng r(seed ^ 0x5851f42d4c957f2dull);
  uint64_t s = r.next() ^ (a * 0x9e3779b97f4a7c15ull);
  Rng r2(s);
  s = r2.next() ^ (b * 0xc2b2ae3d27d4eb4full);
  Rng r3(s);
  return r3.next() ^ (c * 0x165667b19e3779f9ull);
}

}  // namespace dseek::train
