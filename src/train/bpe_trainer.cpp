#include "train/bpe_trainer.h"

#include <algorithm>
#include <queue>
#include <tuple>

namespace dseek::train {

namespace {

uint64_t key(int32_t a, int32_t b) { return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b); }
int32_t left_of(uint64_t k) { return static_cast<int32_t>(k >> 32); }
int32_t right_of(uint64_t k) { return static_cast<int32_t>(k & 0xffffffffu); }

struct Word {
  std::vector<int32_t> symbols;
  int64_t count = 0;
};

// Heap entries: most frequent first, then the lowest (left, right) ids.
struct Entry {
  int64_t count;
  uint64_t pair;
  bool operator<(const Entry& o) const {
    if (count != o.count) return count < o.count;
    return pair > o.pair;
  }
};

}  // namespace

BpeMerges learn_bpe(const std::unordered_map<std::string, int64_t>& word_counts, int64_t max_new_symbols,
                    int64_t min_frequency) {
  BpeMerges out;
  std::unordered_map<std::string, int32_t> symbol_id;
  for (int b = 0; b < 256; ++b) {
    out.symbols.push_back(std::string(1, static_cast<char>(b)));
    symbol_id[out.symbols.back()] = b;
  }

  // Words in a fixed order (the map's order is not), so runs are reproducible.
  std::vector<std::pair<std::string, int64_t>> sorted(word_counts.begin(), word_counts.end());
  std::sort(sorted.begin(), sorted.end());
  std::vector<Word> words;
  words.reserve(sorted.size());
  for (const auto& [text, count] : sorted) {
    if (count <= 0 || text.size() < 2) continue;  // a single byte never merges
    Word w;
    w.count = count;
    for (unsigned char c : text) w.symbols.push_back(c);
    words.push_back(std::move(w));
  }

  std::unordered_map<uint64_t, int64_t> pair_count;
  std::unordered_map<uint64_t, std::vector<int32_t>> pair_words;  // may repeat a word; checked on use
  for (int32_t i = 0; i < static_cast<int32_t>(words.size()); ++i) {
    const Word& w = words[i];
    for (size_t j = 0; j + 1 < w.symbols.size(); ++j) {
      const uint64_t k = key(w.symbols[j], w.symbols[j + 1]);
      pair_count[k] += w.count;
      auto& list = pair_words[k];
      if (list.empty() || list.back() != i) list.push_back(i);
    }
  }
  std::priority_queue<Entry> heap;
  for (const auto& [k, c] : pair_count) heap.push({c, k});

  std::vector<int64_t> stamp(words.size(), -1);
  while (static_cast<int64_t>(out.symbols.size()) - 256 < max_new_symbols && !heap.empty()) {
    const Entry top = heap.top();
    heap.pop();
    auto it = pair_count.find(top.pair);
    const int64_t current = it == pair_count.end() ? 0 : it->second;
    if (current != top.count) {  // stale: counts only fall for existing pairs
      if (current > 0) heap.push({current, top.pair});
      continue;
    }
    if (current < min_frequency) break;
    const int32_t a = left_of(top.pair), b = right_of(top.pair);
    std::string text = out.symbols[a] + out.symbols[b];
    auto [known, added] = symbol_id.emplace(text, static_cast<int32_t>(out.symbols.size()));
    if (added) out.symbols.push_back(std::move(text));
    const int32_t merged = known->second;
    out.merges.push_back({a, b});
    const int64_t merge_index = static_cast<int64_t>(out.merges.size());

    std::vector<int32_t> touched = std::move(pair_words[top.pair]);
    pair_words.erase(top.pair);
    std::unordered_map<uint64_t, int64_t> grown;  // new pairs and how much they gained
    for (int32_t wi : touched) {
      if (stamp[wi] == merge_index) continue;
      stamp[wi] = merge_index;
      Word& w = words[wi];
      bool found = false;
      for (size_t j = 0; j + 1 < w.symbols.size(); ++j) found = found || (w.symbols[j] == a && w.symbols[j + 1] == b);
      if (!found) continue;
      // Take the word's pairs out, merge left to right, put them back.
      for (size_t j = 0; j + 1 < w.symbols.size(); ++j) pair_count[key(w.symbols[j], w.symbols[j + 1])] -= w.count;
      std::vector<int32_t> next;
      next.reserve(w.symbols.size());
      for (size_t j = 0; j < w.symbols.size(); ++j) {
        if (j + 1 < w.symbols.size() && w.symbols[j] == a && w.symbols[j + 1] == b) {
          next.push_back(merged);
          ++j;
        } else {
          next.push_back(w.symbols[j]);
        }
      }
      w.symbols = std::move(next);
      for (size_t j = 0; j + 1 < w.symbols.size(); ++j) {
        const uint64_t k = key(w.symbols[j], w.symbols[j + 1]);
        pair_count[k] += w.count;
        if (w.symbols[j] == merged || w.symbols[j + 1] == merged) {
          grown[k] += w.count;
          auto& list = pair_words[k];
          if (list.empty() || list.back() != wi) list.push_back(wi);
        }
      }
    }
    pair_count.erase(top.pair);
    for (const auto& [k, c] : grown) heap.push({pair_count[k], k});
  }
  return out;
}

}  // namespace dseek::train
