#include "tokenizer/added_vocabulary.h"

#include <algorithm>
#include <unordered_set>

#include "tokenizer/regex.h"
#include "tokenizer/utf8.h"

namespace dseek {

namespace {

// HF decides single_word/lstrip/rstrip with Rust's regex crate: \w is
// Alphabetic, Mark, Decimal_Number, Connector_Punctuation or Join_Control;
// \s is White_Space.
const Regex& word_char() {
  static const Regex r = Regex::compile(R"([\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}])").value();
  return r;
}
const Regex& space_char() {
  static const Regex r = Regex::compile(R"(\p{White_Space})").value();
  return r;
}

// The last / first character of s (valid UTF-8), as a view.
std::string_view last_char(std::string_view s) {
  size_t i = s.size();
  while (i > 0 && (static_cast<uint8_t>(s[i - 1]) & 0xC0) == 0x80) --i;
  return i > 0 ? s.substr(i - 1) : s;
}
std::string_view first_char(std::string_view s) {
  size_t n = s.empty() ? 0 : utf8::sequence_length(s, 0);
  return s.substr(0, n == 0 ? 1 : n);
}

bool ends_with_word(std::string_view s) { return !s.empty() && word_char().matches_at_start(last_char(s)); }
bool starts_with_word(std::string_view s) { return !s.empty() && word_char().matches_at_start(first_char(s)); }

// Where the whitespace at the end of s begins.
size_t trailing_space_start(std::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    std::string_view c = last_char(s.substr(0, end));
    if (!space_char().matches_at_start(c)) break;
    end -= c.size();
  }
  return end;
}
// Length of the whitespace at the start of s.
size_t leading_space_length(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size()) {
    std::string_view c = first_char(s.substr(pos));
    if (!space_char().matches_at_start(c)) break;
    pos += c.size();
  }
  return pos;
}

}  // namespace

void AddedVocabulary::Trie::insert(std::string_view content, int32_t token) {
  uint32_t node = 0;
  for (char ch : content) {
    auto b = static_cast<uint8_t>(ch);
    auto& children = nodes[node].children;
    auto it = std::lower_bound(children.begin(), children.end(), std::make_pair(b, uint32_t{0}),
                               [](const auto& x, const auto& y) { return x.first < y.first; });
    if (it != children.end() && it->first == b) {
      node = it->second;
    } else {
      auto child = static_cast<uint32_t>(nodes.size());
      children.insert(it, {b, child});
      nodes.push_back(Node{});
      node = child;
    }
  }
  // The first token with this content wins, as in HF's automaton.
  if (nodes[node].token < 0) nodes[node].token = token;
  first_byte[static_cast<uint8_t>(content.front())] = true;
}

std::pair<int32_t, size_t> AddedVocabulary::Trie::longest_at(std::string_view text, size_t pos) const {
  std::pair<int32_t, size_t> best{-1, 0};
  uint32_t node = 0;
  for (size_t k = pos; k < text.size(); ++k) {
    const auto& children = nodes[node].children;
    auto b = static_cast<uint8_t>(text[k]);
    auto it = std::lower_bound(children.begin(), children.end(), std::make_pair(b, uint32_t{0}),
                               [](const auto& x, const auto& y) { return x.first < y.first; });
    if (it == children.end() || it->first != b) break;
    node = it->second;
    if (nodes[node].token >= 0) best = {nodes[node].token, k + 1 - pos};
  }
  return best;
}

Result<AddedVocabulary> AddedVocabulary::build(const std::vector<AddedToken>& tokens, const Normalizer& normalizer) {
  AddedVocabulary v;
  // HF's order: special tokens first, then the others, each in file order;
  // empty contents and exact duplicates are ignored.
  std::unordered_set<std::string> special_seen;
  std::vector<AddedToken> ordered;
  for (const AddedToken& t : tokens)
    if (t.special && !t.content.empty() && special_seen.insert(t.content).second) ordered.push_back(t);
  for (const AddedToken& t : tokens)
    if (!t.content.empty() && !special_seen.count(t.content)) ordered.push_back(t);
  v.tokens_ = std::move(ordered);
  for (size_t i = 0; i < v.tokens_.size(); ++i) {
    const AddedToken& t = v.tokens_[i];
    if (t.id < 0) return Error{"added token '" + t.content + "' has a negative id"};
    if (!utf8::is_valid(t.content)) return Error{"added token " + std::to_string(t.id) + " is not valid UTF-8"};
    if (!t.normalized) {
      v.raw_.insert(t.content, static_cast<int32_t>(i));
    } else {
      auto content = normalizer.apply(t.content);
      if (!content) return content.error();
      if (!content->empty()) v.normalized_.insert(content.value(), static_cast<int32_t>(i));
    }
  }
  return v;
}

void AddedVocabulary::split(std::string_view text, bool normalized_phase, bool match_special,
                            std::vector<TextSegment>& out) const {
  const Trie& trie = normalized_phase ? normalized_ : raw_;
  size_t start_offset = 0;  // end of the last token taken
  size_t pos = 0;
  if (trie.nodes.size() > 1) {
    while (pos < text.size()) {
      if (!trie.first_byte[static_cast<uint8_t>(text[pos])]) {
        ++pos;
        continue;
      }
      auto [index, length] = trie.longest_at(text, pos);
      if (index < 0) {
        ++pos;
        continue;
      }
      const AddedToken& token = tokens_[static_cast<size_t>(index)];
      size_t start = pos, stop = pos + length;
      pos = stop;  // matching resumes after this match whatever happens to it
      if (token.special && !match_special) continue;
      if (token.single_word) {
        bool start_space = start == 0 || !ends_with_word(text.substr(0, start));
        bool stop_space = stop == text.size() || !starts_with_word(text.substr(stop));
        if (!start_space || !stop_space) continue;
      }
      if (token.lstrip) start = std::max(trailing_space_start(text.substr(0, start)), start_offset);
      if (token.rstrip) stop += leading_space_length(text.substr(stop));
      if (start > start_offset) out.push_back({text.substr(start_offset, start - start_offset), -1});
      out.push_back({text.substr(start, stop - start), token.id});
      start_offset = stop;
      // After an rstrip took whitespace, HF's automaton would still look for
      // tokens inside it and could emit overlapping pieces; dseek resumes
      // after it (this only differs for tokens that begin with whitespace).
      pos = std::max(pos, stop);
    }
  }
  if (start_offset < text.size() || text.empty()) out.push_back({text.substr(std::min(start_offset, text.size())), -1});
}

}  // namespace dseek
