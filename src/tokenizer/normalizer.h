// Unicode normalization steps of a tokenizer.json "normalizer" (NFC, NFD,
// NFKC, NFKD, possibly in a Sequence), done by utf8proc.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace dseek {

enum class NormalizationForm { kNFC, kNFD, kNFKC, kNFKD };

const char* normalization_form_name(NormalizationForm form);

class Normalizer {
 public:
  Normalizer() = default;
  explicit Normalizer(std::vector<NormalizationForm> steps) : steps_(std::move(steps)) {}

  bool empty() const { return steps_.empty(); }
  const std::vector<NormalizationForm>& steps() const { return steps_; }

  // Applies every step in order. The input must be valid UTF-8.
  Result<std::string> apply(std::string_view text) const;

 private:
  std::vector<NormalizationForm> steps_;
};

}  // namespace dseek
