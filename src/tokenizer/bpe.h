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
  // Open addressing, power-of-two size: merge lookups are the inner loop of
  // BPE, and std::unordered_map's node chasing cost a third of the time.
  class MergeTable {
   public:
    void reserve(size_t n);
    void set(uint64_t key, Merge m);  // replaces an existing key
    const Merge* find(uint64_t key) const {
      if (slots_.empty()) return nullptr;
      for (size_t i = slot_of(key);; i = (i + 1) & mask_) {
        const Slot& s = slots_[i];
        if (s.key == key) return &s.merge;
        if (s.key == kEmpty) return nullptr;
      }
    }

   private:
    static constexpr uint64_t kEmpty = ~uint64_t{0};  // (-1, -1) is no pair of ids
    struct Slot {
      uint64_t key = kEmpty;
      Merge merge{};
    };
    size_t slot_of(uint64_t key) const { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_); }
    std::vector<Slot> slots_;
    size_t mask_ = 0, used_ = 0;
    int shift_ = 64;
  };
  const Merge* find_merge(int32_t a, int32_t b) const { return merges_.find(pair_key(a, b)); }
  void add_symbols(std::string_view piece, std::vector<int32_t>& symbols, std::vector<uint32_t>& lengths) const;
  void merge_symbols(std::vector<int32_t>& symbols, std::vector<uint32_t>& lengths) const;

  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  bool byte_level_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  bool fuse_unk_ = false;
  int32_t unk_id_ = -1;
  using TokenMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;
  TokenMap token_to_id_;  // file spelling
  TokenMap piece_to_id_;  // what encode() sees (raw bytes when byte_level)
  std::array<int32_t, 256> byte_symbol_{};                // byte_level: the token of each single byte, -1 if none
  std::array<int32_t, 256> byte_fallback_id_{};           // <0xHH> tokens, -1 if none
  MergeTable merges_;
  std::vector<std::string> id_to_token_;

  // Pre-token -> ids. Text repeats a small set of words, so most pre-tokens
  // are found here; bounded, and cleared when full.
  struct Cache {
    std::mutex mutex;
    // -> (offset, count) in ids. Looked up by string_view (no allocation).
    std::unordered_map<std::string, std::pair<uint32_t, uint32_t>, StringHash, std::equal_to<>> index;
    std::vector<int32_t> ids;
  };
  mutable std::unique_ptr<Cache> cache_ = std::make_unique<Cache>();
};

}  // namespace dseek
