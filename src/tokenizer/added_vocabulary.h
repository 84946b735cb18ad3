// Added tokens (tokenizer.json "added_tokens"): special and user tokens that
// are cut out of the text before normalization and pre-tokenization, as HF's
// AddedVocabulary does: leftmost-longest matching, first the tokens with
// normalized=false on the raw text, then those with normalized=true on the
// normalized text, honouring lstrip, rstrip and single_word.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/normalizer.h"
#include "util/result.h"

namespace dseek {

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool special = false;     // skipped by decode(skip_special_tokens)
  bool normalized = false;  // matched in the normalized text
  bool lstrip = false;      // the match takes the whitespace on its left
  bool rstrip = false;      // ... and on its right
  bool single_word = false; // only matches between non-word characters
};

// A run of text, or an added token (id >= 0) with the text it covers.
struct TextSegment {
  std::string_view text;
  int32_t id = -1;
};

class AddedVocabulary {
 public:
  AddedVocabulary() = default;
  static Result<AddedVocabulary> build(const std::vector<AddedToken>& tokens, const Normalizer& normalizer);

  // Cuts text into segments with the tokens of one phase. With
  // match_special false, special tokens are not matched (their text stays
  // text, for input that must not inject control tokens).
  void split(std::string_view text, bool normalized_phase, bool match_special, std::vector<TextSegment>& out) const;

  const std::vector<AddedToken>& tokens() const { return tokens_; }

 private:
  // A byte trie over the token contents of one phase.
  struct Trie {
    struct Node {
      std::vector<std::pair<uint8_t, uint32_t>> children;  // sorted by byte
      int32_t token = -1;                                   // index into tokens_
    };
    std::vector<Node> nodes{Node{}};
    std::array<bool, 256> first_byte{};
    void insert(std::string_view content, int32_t token);
    // Longest token starting at text[pos]: (index, length) or index -1.
    std::pair<int32_t, size_t> longest_at(std::string_view text, size_t pos) const;
  };
  std::vector<AddedToken> tokens_;
  Trie raw_, normalized_;
};

}  // namespace dseek
