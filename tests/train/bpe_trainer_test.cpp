// BPE learning on corpora small enough to follow by hand.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "train/bpe_trainer.h"

namespace dseek::train {
namespace {

std::vector<std::string> merged_symbols(const BpeMerges& m) {
  return std::vector<std::string>(m.symbols.begin() + 256, m.symbols.end());
}

TEST(BpeTrainer, MergesTheMostFrequentPairFirst) {
  std::unordered_map<std::string, int64_t> words{{"low", 5}, {"lower", 2}, {"newest", 6}, {"widest", 3}};
  // Counts: lo 7, ow 7, we 8 (lower 2 + newest 6), er 2, ne 6, ew 6, es 9, st 9, wi 3, id 3, de 3.
  // 1: es and st tie at 9; "es" (e=101, s=115) has lower ids than "st" (s=115, t=116).
  // 2: es+t = 9. Merging "es" broke newest's "we", so we = 2 now.
  // 3: lo and ow tie at 7: "lo". 4: lo+w = 7 beats ne, ew, w+est (6 each).
  BpeMerges m = learn_bpe(words, 4);
  EXPECT_EQ(merged_symbols(m), (std::vector<std::string>{"es", "est", "lo", "low"}));
  // Each merge names the symbols it joins.
  EXPECT_EQ(m.symbols[m.merges[1].first], "es");
  EXPECT_EQ(m.symbols[m.merges[1].second], "t");
}

TEST(BpeTrainer, OverlappingPairsAreCountedPerOccurrenceAndMergedLeftToRight) {
  // "aaaa" x3: pair aa occurs 3 times per word (9 in all); merging gives [aa aa], then aaaa.
  BpeMerges m = learn_bpe({{"aaaa", 3}, {"ab", 1}}, 10);
  EXPECT_EQ(merged_symbols(m), (std::vector<std::string>{"aa", "aaaa"}));  // "ab" occurs once: below min_frequency
}

TEST(BpeTrainer, StopsAtTheBudgetOrWhenNothingRepeats) {
  EXPECT_EQ(learn_bpe({{"abcdef", 5}}, 2).merges.size(), 2u);
  EXPECT_EQ(learn_bpe({{"abcdef", 1}}, 10).merges.size(), 0u);
  EXPECT_EQ(learn_bpe({{"abcdef", 1}}, 10, 1).merges.size(), 5u);
  EXPECT_EQ(learn_bpe({}, 10).merges.size(), 0u);
}

TEST(BpeTrainer, EverySymbolIsDistinctAndEveryMergeSpellsASymbol) {
  // Many words over a three-letter alphabet: the same string can be reached by
  // different merges in different contexts; it must stay one symbol.
  std::mt19937 rng(5);
  std::unordered_map<std::string, int64_t> words;
  for (int i = 0; i < 3000; ++i) {
    std::string w;
    const int len = 2 + static_cast<int>(rng() % 9);
    for (int k = 0; k < len; ++k) w += static_cast<char>('a' + rng() % 3);
    words[w] += 1 + static_cast<int64_t>(rng() % 5);
  }
  BpeMerges m = learn_bpe(words, 300);
  EXPECT_EQ(m.symbols.size(), 256u + 300u);
  std::set<std::string> unique(m.symbols.begin(), m.symbols.end());
  EXPECT_EQ(unique.size(), m.symbols.size());
  EXPECT_GE(m.merges.size(), 300u);
  std::set<std::string> spelled;
  for (auto [a, b] : m.merges) spelled.insert(m.symbols[a] + m.symbols[b]);
  for (size_t i = 256; i < m.symbols.size(); ++i) EXPECT_TRUE(spelled.count(m.symbols[i])) << m.symbols[i];
}

TEST(BpeTrainer, BytesBeyondAsciiAreSymbolsToo) {
  BpeMerges m = learn_bpe({{"\xc3\xa9t\xc3\xa9", 4}}, 1);  // "été"
  ASSERT_EQ(m.merges.size(), 1u);
  EXPECT_EQ(m.symbols[256], "\xc3\xa9");
}

}  // namespace
}  // namespace dseek::train
