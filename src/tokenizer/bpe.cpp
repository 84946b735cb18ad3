#include "tokenizer/bpe.h"

#include <algorithm>
#include <bit>
#include <cstdio>

#include "tokenizer/byte_level.h"
#include "tokenizer/utf8.h"

namespace dseek {

namespace {

// Real vocabularies have at most a few hundred thousand ids; the bound keeps a
// hostile file from making dseek allocate gigabytes for one huge id.
constexpr int32_t kMaxTokenId = (1 << 22) - 1;

// Pre-tokens longer than this are not cached (they are rare and would fill it).
constexpr size_t kMaxCachedPieceBytes = 256;
constexpr size_t kMaxCacheEntries = 1 << 17;

std::string byte_token_name(uint8_t b) {
  char name[8];
  std::snprintf(name, sizeof(name), "<0x%02X>", b);
  return name;
}

}  // namespace

void BpeModel::MergeTable::reserve(size_t n) {
  size_t capacity = 16;
  while (capacity < 2 * n) capacity *= 2;
  slots_.assign(capacity, Slot{});
  mask_ = capacity - 1;
  shift_ = 64 - std::countr_zero(capacity);
  used_ = 0;
}

void BpeModel::MergeTable::set(uint64_t key, Merge m) {
  if (2 * (used_ + 1) > slots_.size()) {  // keep the load at most 1/2
    std::vector<Slot> old = std::move(slots_);
    reserve(std::max<size_t>(used_ + 1, old.size()));
    for (const Slot& s : old)
      if (s.key != kEmpty) set(s.key, s.merge);
  }
  for (size_t i = slot_of(key);; i = (i + 1) & mask_) {
    Slot& s = slots_[i];
    if (s.key == key) {
      s.merge = m;
      return;
    }
    if (s.key == kEmpty) {
      s = Slot{key, m};
      ++used_;
      return;
    }
  }
}

BpeModel::BpeModel(BpeModel&&) noexcept = default;
BpeModel& BpeModel::operator=(BpeModel&&) noexcept = default;

Result<BpeModel> BpeModel::build(const BpeSpec& spec, bool byte_level) {
  BpeModel m;
  m.byte_level_ = byte_level;
  m.byte_fallback_ = spec.byte_fallback;
  m.ignore_merges_ = spec.ignore_merges;
  m.fuse_unk_ = spec.fuse_unk;
  m.token_to_id_.reserve(spec.vocab.size());
  int32_t max_id = -1;
  for (const auto& [token, id] : spec.vocab) {
    if (id < 0 || id > kMaxTokenId)
      return Error{"model.vocab['" + token + "']: id " + std::to_string(id) + " is out of range [0, " +
                   std::to_string(kMaxTokenId) + "]"};
    if (!m.token_to_id_.emplace(token, id).second)
      return Error{"model.vocab: token '" + token + "' appears twice"};
    max_id = std::max(max_id, id);
  }
  m.id_to_token_.assign(static_cast<size_t>(max_id + 1), std::string());
  for (const auto& [token, id] : spec.vocab) {
    std::string& slot = m.id_to_token_[static_cast<size_t>(id)];
    if (token.empty()) return Error{"model.vocab: the empty string is not a token (id " + std::to_string(id) + ")"};
    if (!slot.empty())
      return Error{"model.vocab: id " + std::to_string(id) + " is given to both '" + slot + "' and '" + token + "'"};
    slot = token;
  }

  // What encode() looks up: with byte-level pre-tokens, the raw bytes each
  // token stands for. A token outside GPT-2's alphabet can never be produced
  // from bytes, so it is left out of this map (it still decodes).
  if (byte_level) {
    m.piece_to_id_.reserve(spec.vocab.size());
    for (const auto& [token, id] : spec.vocab) {
      auto raw = byte_level::decode(token);
      if (raw) m.piece_to_id_.emplace(std::move(*raw), id);
    }
  }
  const auto& lookup = byte_level ? m.piece_to_id_ : m.token_to_id_;
  for (int b = 0; b < 256; ++b) {
    auto it = byte_level ? lookup.find(std::string(1, static_cast<char>(b))) : lookup.end();
    m.byte_symbol_[b] = it == lookup.end() ? -1 : it->second;
    auto fb = lookup.find(byte_token_name(static_cast<uint8_t>(b)));
    m.byte_fallback_id_[b] = fb == lookup.end() ? -1 : fb->second;
  }
  if (spec.unk_token) {
    auto it = m.token_to_id_.find(*spec.unk_token);
    if (it == m.token_to_id_.end())
      return Error{"model.unk_token: '" + *spec.unk_token + "' is not in the vocabulary"};
    m.unk_id_ = it->second;
  }

  m.merges_.reserve(spec.merges.size());
  for (size_t rank = 0; rank < spec.merges.size(); ++rank) {
    const std::string& a = spec.merges[rank].first;
    const std::string& b = spec.merges[rank].second;
    auto where = [&] { return "model.merges[" + std::to_string(rank) + "] ('" + a + "' '" + b + "')"; };
    auto ia = m.token_to_id_.find(a);
    if (ia == m.token_to_id_.end()) return Error{where() + ": '" + a + "' is not in the vocabulary"};
    auto ib = m.token_to_id_.find(b);
    if (ib == m.token_to_id_.end()) return Error{where() + ": '" + b + "' is not in the vocabulary"};
    auto in = m.token_to_id_.find(a + b);
    if (in == m.token_to_id_.end()) return Error{where() + ": the merged token '" + a + b + "' is not in the vocabulary"};
    // A repeated pair keeps its last rank, as HF's merge map does.
    m.merges_.set(pair_key(ia->second, ib->second), Merge{static_cast<int32_t>(rank), in->second});
  }
  return m;
}

std::optional<int32_t> BpeModel::token_to_id(std::string_view token) const {
  auto it = token_to_id_.find(token);
  if (it == token_to_id_.end()) return std::nullopt;
  return it->second;
}

// The initial symbols of a pre-token: one per byte (byte-level) or per
// character, each its token id; unknown ones become <0xHH> byte tokens,
// the unk token, or nothing, in that order of preference (HF's merge_word).
void BpeModel::add_symbols(std::string_view piece, std::vector<int32_t>& symbols,
                           std::vector<uint32_t>& lengths) const {
  int32_t pending_unk_len = 0;  // bytes covered by a pending (fusable) unk
  auto flush_unk = [&] {
    if (pending_unk_len > 0) {
      symbols.push_back(unk_id_);
      lengths.push_back(static_cast<uint32_t>(pending_unk_len));
      pending_unk_len = 0;
    }
  };
  size_t i = 0;
  while (i < piece.size()) {
    size_t n = 1;
    int32_t id = -1;
    if (byte_level_) {
      id = byte_symbol_[static_cast<uint8_t>(piece[i])];
    } else {
      n = utf8::sequence_length(piece, i);
      if (n == 0) n = 1;  // cannot happen for sanitized text; stay safe
      auto it = token_to_id_.find(piece.substr(i, n));
      if (it != token_to_id_.end()) id = it->second;
    }
    if (id >= 0) {
      flush_unk();
      symbols.push_back(id);
      lengths.push_back(static_cast<uint32_t>(n));
      i += n;
      continue;
    }
    if (byte_fallback_) {
      // The bytes of the character as the vocabulary spells it: for a
      // byte-level model that is the UTF-8 of the byte's alphabet character.
      std::string bytes = byte_level_ ? byte_level::encode(piece.substr(i, 1)) : std::string(piece.substr(i, n));
      bool all = true;
      for (char c : bytes) all = all && byte_fallback_id_[static_cast<uint8_t>(c)] >= 0;
      if (all) {
        // HF adds these without first emitting a pending unk; same order here.
        for (char c : bytes) {
          symbols.push_back(byte_fallback_id_[static_cast<uint8_t>(c)]);
          lengths.push_back(1);
        }
        i += n;
        continue;
      }
    }
    if (unk_id_ >= 0) {
      if (!fuse_unk_) flush_unk();
      pending_unk_len += static_cast<int32_t>(n);
    }
    // Without an unk token the character is dropped, as HF does.
    i += n;
  }
  flush_unk();
}

void BpeModel::merge_symbols(std::vector<int32_t>& symbols, std::vector<uint32_t>& lengths) const {
  const size_t n = symbols.size();
  if (n < 2) return;
  struct Candidate {
    int32_t rank, pos, new_id;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  // Scratch kept per thread: most pre-tokens are short, and allocating these
  // for each one would cost more than merging it.
  thread_local std::vector<int32_t> prev, next;
  thread_local std::vector<Candidate> heap;
  prev.resize(n);
  next.resize(n);
  heap.clear();
  for (size_t k = 0; k < n; ++k) {
    prev[k] = static_cast<int32_t>(k) - 1;
    next[k] = k + 1 < n ? static_cast<int32_t>(k + 1) : -1;
  }
  for (size_t k = 0; k + 1 < n; ++k)
    if (const Merge* m = find_merge(symbols[k], symbols[k + 1]))
      heap.push_back({m->rank, static_cast<int32_t>(k), m->new_id});
  auto cmp = std::greater<Candidate>();
  std::make_heap(heap.begin(), heap.end(), cmp);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), cmp);
    Candidate top = heap.back();
    heap.pop_back();
    const int32_t pos = top.pos;
    if (lengths[pos] == 0 || next[pos] < 0) continue;  // merged away, or now last
    const int32_t right = next[pos];
    // The pair may have changed since this candidate was queued.
    const Merge* m = find_merge(symbols[pos], symbols[right]);
    if (!m || m->new_id != top.new_id) continue;
    symbols[pos] = top.new_id;
    lengths[pos] += lengths[right];
    lengths[right] = 0;
    next[pos] = next[right];
    if (next[right] >= 0) prev[next[right]] = pos;
    if (prev[pos] >= 0) {
      if (const Merge* pm = find_merge(symbols[prev[pos]], symbols[pos])) {
        heap.push_back({pm->rank, prev[pos], pm->new_id});
        std::push_heap(heap.begin(), heap.end(), cmp);
      }
    }
    if (next[pos] >= 0) {
      if (const Merge* nm = find_merge(symbols[pos], symbols[next[pos]])) {
        heap.push_back({nm->rank, pos, nm->new_id});
        std::push_heap(heap.begin(), heap.end(), cmp);
      }
    }
  }
  size_t w = 0;
  for (size_t k = 0; k < n; ++k) {
    if (lengths[k] == 0) continue;
    symbols[w] = symbols[k];
    lengths[w] = lengths[k];
    ++w;
  }
  symbols.resize(w);
  lengths.resize(w);
}

void BpeModel::encode(std::string_view piece, std::vector<int32_t>& out) const {
  if (piece.empty()) return;
  const bool cacheable = piece.size() <= kMaxCachedPieceBytes;
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_->mutex);
    auto it = cache_->index.find(piece);
    if (it != cache_->index.end()) {
      const int32_t* ids = cache_->ids.data() + it->second.first;
      out.insert(out.end(), ids, ids + it->second.second);
      return;
    }
  }
  thread_local std::vector<int32_t> symbols;
  thread_local std::vector<uint32_t> lengths;
  symbols.clear();
  lengths.clear();
  const TokenMap& lookup = byte_level_ ? piece_to_id_ : token_to_id_;
  auto whole = ignore_merges_ ? lookup.find(piece) : lookup.end();
  if (whole != lookup.end()) {
    symbols.push_back(whole->second);
  } else {
    add_symbols(piece, symbols, lengths);
    merge_symbols(symbols, lengths);
  }
  out.insert(out.end(), symbols.begin(), symbols.end());
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_->mutex);
    if (cache_->index.size() >= kMaxCacheEntries) {
      cache_->index.clear();
      cache_->ids.clear();
    }
    auto offset = static_cast<uint32_t>(cache_->ids.size());
    cache_->ids.insert(cache_->ids.end(), symbols.begin(), symbols.end());
    cache_->index.emplace(std::string(piece), std::make_pair(offset, static_cast<uint32_t>(symbols.size())));
  }
}

}  // namespace dseek
