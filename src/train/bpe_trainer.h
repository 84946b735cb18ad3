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
  // symbols[i] for i < 256 is byte i; then the new symbols in merge order.
  std::vector<std::string> symbols;
  // (left, right) symbol ids, in order. Two merges can spell the same
  // string ("ab"+"c", "a"+"bc"): the second reuses the first one's symbol,
  // so there can be more merges than new symbols.
  std::vector<std::pair<int32_t, int32_t>> merges;
};

// words: distinct pre-tokens (raw bytes) and their counts. Stops once
// max_new_symbols symbols were added or when no pair occurs min_frequency times.
BpeMerges learn_bpe(const std::unordered_map<std::string, int64_t>& words, int64_t max_new_symbols,
                    int64_t min_frequency = 2);

}  // namespace dseek::train
