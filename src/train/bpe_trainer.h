// Byte-level BPE training (the algorithm of Sennrich et al. as Hugging
// Face's BpeTrainer runs it): start from the 256 bytes, count adjacent
// symbol pairs over the distinct pre-tokenized words weighted by how often
// each occurs, and repeatedly merge the most frequent pair into a new
// symbol. Ties go to the pair whose symbols were created first (lowest ids),
// so the result is deterministic.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace dseek::train {

struct BpeMerges {
  // symbols[i] for i < 256 is byte i; then one new symbol per merge.
  std::vector<std::string> symbols;
  // merges[k] = (left, right) symbol ids; symbols[256 + k] = left + right.
  std::vector<std::pair<int32_t, int32_t>> merges;
};

// words: distinct pre-tokens (raw bytes) and their counts. Stops after
// max_merges merges or when no pair occurs min_frequency times.
BpeMerges learn_bpe(const std::unordered_map<std::string, int64_t>& words, int64_t max_merges,
                    int64_t min_frequency = 2);

}  // namespace dseek::train
