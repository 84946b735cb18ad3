// Choosing the next token from logits: a chain of logit processors, each a
// plain function that tests check on hand-computed distributions, then a
// draw from the seeded generator. The order is Hugging Face's and vLLM's:
//   penalties -> temperature -> top-k -> top-p -> min-p -> draw.
// Temperature 0 means greedy (argmax, lowest id on ties).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "util/result.h"

namespace dseek {

struct SamplingParams {
  double temperature = 1.0;         // 0: greedy
  int64_t top_k = 0;                // 0: off
  double top_p = 1.0;               // 1: off
  double min_p = 0.0;               // 0: off
  double repetition_penalty = 1.0;  // HF/CTRL: over prompt and output tokens; 1: off
  double frequency_penalty = 0.0;   // OpenAI: minus count * penalty, over output tokens
  double presence_penalty = 0.0;    // OpenAI: minus penalty once, over output tokens
  uint64_t seed = 0;

  bool greedy() const { return temperature <= 0.0; }
  // Refuses absurd values, naming the parameter (the server maps this to 422).
  Status validate() const;
};

// A token and its (processed) logit; processors keep the survivors.
struct Candidate {
  int32_t id;
  float logit;
};

namespace sampling {
// Each step below works on the candidate list in place.
void apply_penalties(std::vector<Candidate>& c, const SamplingParams& p, std::span<const int32_t> prompt,
                     std::span<const int32_t> output);
void apply_temperature(std::vector<Candidate>& c, double temperature);
void keep_top_k(std::vector<Candidate>& c, int64_t k);           // leaves c sorted by logit, descending
void keep_top_p(std::vector<Candidate>& c, double p);            // smallest prefix whose probability >= p
void keep_min_p(std::vector<Candidate>& c, double min_p);        // drops prob < min_p * max prob
std::vector<double> probabilities(const std::vector<Candidate>& c);  // softmax of the logits
}  // namespace sampling

// A counter-based generator (splitmix64): the same seed gives the same
// stream on every platform and standard library.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next();
  double uniform();  // [0, 1), 53 random bits
 private:
  uint64_t state_;
};

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {}
  // logits: [vocab]; prompt/output: the sequence so far (for penalties).
  int32_t sample(std::span<const float> logits, std::span<const int32_t> prompt, std::span<const int32_t> output);
  const SamplingParams& params() const { return params_; }

 private:
  SamplingParams params_;
  Rng rng_;
  std::vector<Candidate> candidates_;
};

}  // namespace dseek
