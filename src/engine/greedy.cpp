#include "engine/greedy.h"

namespace dseek {

int32_t argmax(const float* values, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (values[i] > values[best]) best = i;
  return static_cast<int32_t>(best);
}

Result<std::vector<int32_t>> generate_greedy(Model& model, KvCache& cache, std::span<const int32_t> prompt,
                                             int64_t n_new, const std::function<void(int32_t)>& on_token) {
  const int64_t vocab = model.config().vocab_size;
  std::vector<float> logits(static_cast<size_t>(vocab));
  std::vector<int32_t> out;
  if (n_new <= 0) return out;
  SequenceInput input{&cache, prompt, false, logits.data()};
  DSEEK_TRY(model.forward(std::span<SequenceInput>(&input, 1)));
  for (int64_t i = 0; i < n_new; ++i) {
    int32_t next = argmax(logits.data(), vocab);
    out.push_back(next);
    if (on_token) on_token(next);
    if (i + 1 == n_new) break;
    SequenceInput step{&cache, std::span<const int32_t>(&out.back(), 1), false, logits.data()};
    DSEEK_TRY(model.forward(std::span<SequenceInput>(&step, 1)));
  }
  return out;
}

}  // namespace dseek
