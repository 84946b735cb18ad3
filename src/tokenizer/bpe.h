// The BPE model of a tokenizer: vocabulary, ranked merges, and the merge loop
// that turns one pre-token into ids, as Hugging Face's tokenizers does it
// (lowest-ranked adjacent pair first, leftmost on ties; ignore_merges,
// byte_fallback and unk handling).
#pragma once

#include <array>
#include <memory>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "util/result.h"

namespace dseek {

struct BpeSpec {
  // Token text exactly as the vocabulary file spells it ("Ġhello"), and id.
  std::vector<std::pair<std::string, int32_t>> vocab;
  // Merges in rank order (rank 0 first): the two parts of each.
  std::vector<std::pair<std::string, std::string>> merges;
  std::optional<std::string> unk_token;
  bool fuse_unk = false;
  bool byte_fallback = false;  // unknown characters as <0xHH> byte tokens
  bool ignore_merges = false;  // a pre-token that is itself a token is taken whole (Llama 3)
};

class BpeModel {
 public:
  BpeModel() = default;
  BpeModel(BpeModel&&) noexcept;
  BpeModel& operator=(BpeModel&&) noexcept;

  // byte_level: pre-tokens arrive as raw bytes and every byte is one symbol
  // (tokens are converted from GPT-2's byte alphabet to raw bytes here);
  // otherwise every UTF-8 character is one symbol.
  static Result<BpeModel> build(const BpeSpec& spec, bool byte_level);

  // Appends the ids of one pre-token. Thread-safe (the word cache is locked).
  void encode(std::string_view piece, std::vector<int32_t>& out) const;

  // Token text by id as the file spells it; empty for an id no token has.
  const std::vector<std::string>& id_to_token() const { return id_to_token_; }
  std::optional<int32_t> token_to_id(std::string_view token) const;

 private:
  struct Merge {
    int32_t rank;
    int32_t new_id;
  };
  static uint64_t pair_key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  const Merge* find_merge(int32_t a, int32_t b) const;
  void add_symbols(std::string_view piece, std::vector<int32_t>& symbols, std::vector<uint32_t>& lengths) const;
  void merge_symbols(std::vector<int32_t>& symbols, std::vector<uint32_t>& lengths) const;

  bool byte_level_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  bool fuse_unk_ = false;
  int32_t unk_id_ = -1;
  std::unordered_map<std::string, int32_t> token_to_id_;  // file spelling
  std::unordered_map<std::string, int32_t> piece_to_id_;  // what encode() sees (raw bytes when byte_level)
  std::array<int32_t, 256> byte_symbol_{};                // byte_level: the token of each single byte, -1 if none
  std::array<int32_t, 256> byte_fallback_id_{};           // <0xHH> tokens, -1 if none
  std::unordered_map<uint64_t, Merge> merges_;
  std::vector<std::string> id_to_token_;

  // Pre-token -> ids. Text repeats a small set of words, so most pre-tokens
  // are found here; bounded, and cleared when full.
  struct Cache {
    std::mutex mutex;
    std::unordered_map<std::string, std::pair<uint32_t, uint32_t>> index;  // -> (offset, count) in ids
    std::vector<int32_t> ids;
  };
  mutable std::unique_ptr<Cache> cache_ = std::make_unique<Cache>();
};

}  // namespace dseek
