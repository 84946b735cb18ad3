#include "server/token_constraint.h"

#include <algorithm>
#include <limits>

#include "util/hash.h"

namespace dseek::server {

// ---- VocabIndex -------------------------------------------------------------

VocabIndex::VocabIndex(const TextModel& text) : vocab_size_(text.vocab_size()) {
  nodes_.push_back(Node{});
  bytes_.resize(static_cast<size_t>(vocab_size_));
  is_control_.assign(static_cast<size_t>(vocab_size_), false);
  std::vector<std::pair<uint32_t, int32_t>> ends;  // (node, token)
  for (int32_t id = 0; id < vocab_size_; ++id) {
    if (text.is_control(id)) {
      control_.push_back(id);
      is_control_[static_cast<size_t>(id)] = true;
      continue;
    }
    const std::string_view bytes = text.token_bytes(id);
    bytes_[static_cast<size_t>(id)] = std::string(bytes);
    if (bytes.empty()) continue;  // an id no token has: never allowed
    uint32_t node = 0;
    for (char ch : bytes) {
      const auto b = static_cast<uint8_t>(ch);
      uint32_t child = nodes_[node].first_child;
      while (child != 0 && nodes_[child].byte != b) child = nodes_[child].next_sibling;
      if (child == 0) {
        child = static_cast<uint32_t>(nodes_.size());
        Node n;
        n.byte = b;
        n.next_sibling = nodes_[node].first_child;
        nodes_.push_back(n);
        nodes_[node].first_child = child;
      }
      node = child;
    }
    ends.emplace_back(node, id);
    max_token_bytes_ = std::max(max_token_bytes_, bytes.size());
  }
  std::sort(ends.begin(), ends.end());
  token_ids_.reserve(ends.size());
  for (size_t i = 0; i < ends.size(); ++i) {
    Node& n = nodes_[ends[i].first];
    if (n.n_tokens == 0) n.first_token = static_cast<uint32_t>(token_ids_.size());
    ++n.n_tokens;
    token_ids_.push_back(ends[i].second);
  }
}

ToolCallFormat ToolCallFormat::from(const TextModel& text, bool v3_fenced) {
  ToolCallFormat f;
  auto id = [&](std::string_view s) { return text.control_id(s).value_or(-1); };
  f.calls_begin = id("<｜tool▁calls▁begin｜>");
  f.calls_end = id("<｜tool▁calls▁end｜>");
  f.call_begin = id("<｜tool▁call▁begin｜>");
  f.call_end = id("<｜tool▁call▁end｜>");
  f.sep = id("<｜tool▁sep｜>");
  f.v3_fenced = v3_fenced;
  return f;
}

// ---- OutputConstraint -------------------------------------------------------

OutputConstraint::OutputConstraint(std::shared_ptr<const VocabIndex> vocab, std::vector<int32_t> end_tokens,
                                   int64_t max_tokens)
    : vocab_(std::move(vocab)), end_tokens_(std::move(end_tokens)), max_tokens_(max_tokens) {
  is_end_.assign(static_cast<size_t>(vocab_->vocab_size()), false);
  for (int32_t t : end_tokens_)
    if (t >= 0 && t < vocab_->vocab_size()) is_end_[static_cast<size_t>(t)] = true;
}

std::unique_ptr<OutputConstraint> OutputConstraint::json_object(std::shared_ptr<const VocabIndex> vocab,
                                                                std::vector<int32_t> end_tokens, int64_t max_tokens) {
  std::unique_ptr<OutputConstraint> c(new OutputConstraint(std::move(vocab), std::move(end_tokens), max_tokens));
  c->items_.emplace_back(ItemKind::kJson);
  c->finish_setup();
  return c;
}

std::unique_ptr<OutputConstraint> OutputConstraint::tool_calls(std::shared_ptr<const VocabIndex> vocab,
                                                               std::vector<int32_t> end_tokens,
                                                               const ToolCallFormat& f,
                                                               const std::vector<std::string>& names, int max_calls,
                                                               int64_t max_tokens) {
  std::unique_ptr<OutputConstraint> c(new OutputConstraint(std::move(vocab), std::move(end_tokens), max_tokens));
  auto& items = c->items_;
  items.emplace_back(ItemKind::kControl, f.calls_begin);
  if (f.v3_fenced) {
    c->call_start_ = static_cast<uint16_t>(items.size());
    items.emplace_back(ItemKind::kLiteral, -1, "\n");  // between calls only (see advance in enter())
    items.emplace_back(ItemKind::kControl, f.call_begin);
    items.emplace_back(ItemKind::kLiteral, -1, "function");
    items.emplace_back(ItemKind::kControl, f.sep);
    items.emplace_back(ItemKind::kName);
    items.emplace_back(ItemKind::kLiteral, -1, "\n```json\n");
    items.emplace_back(ItemKind::kJson);
    items.emplace_back(ItemKind::kLiteral, -1, "\n```");
    items.emplace_back(ItemKind::kControl, f.call_end);
  } else {
    c->call_start_ = static_cast<uint16_t>(items.size());
    items.emplace_back(ItemKind::kControl, f.call_begin);
    items.emplace_back(ItemKind::kName);
    items.emplace_back(ItemKind::kControl, f.sep);
    items.emplace_back(ItemKind::kJson);
    items.emplace_back(ItemKind::kControl, f.call_end);
  }
  items.emplace_back(ItemKind::kAfterCall);
  c->max_calls_ = static_cast<uint8_t>(std::clamp(max_calls, 1, 64));
  c->calls_end_ = f.calls_end;
  c->names_.emplace_back();
  for (const std::string& name : names) {
    uint16_t node = 0;
    for (char ch : name) {
      const auto b = static_cast<uint8_t>(ch);
      auto& children = c->names_[node].children;
      auto it = std::find_if(children.begin(), children.end(), [&](const auto& p) { return p.first == b; });
      if (it != children.end()) {
        node = it->second;
      } else {
        const auto next = static_cast<uint16_t>(c->names_.size());
        children.emplace_back(b, next);
        c->names_.emplace_back();
        node = next;
      }
    }
    c->names_[node].terminal = true;
  }
  c->finish_setup();
  return c;
}

// Distances to the end: for every name-trie node the shortest way to a whole
// name, and for every item the cost of the items after it.
void OutputConstraint::finish_setup() {
  name_left_.assign(names_.size(), 1 << 20);
  for (bool changed = true; changed;) {  // tiny tries: relax until stable
    changed = false;
    for (size_t n = 0; n < names_.size(); ++n) {
      int best = names_[n].terminal ? 0 : name_left_[n];
      for (const auto& [byte, child] : names_[n].children) best = std::min(best, name_left_[child] + 1);
      if (best < name_left_[n]) {
        name_left_[n] = best;
        changed = true;
      }
    }
  }
  auto cost = [&](const Item& it) -> int64_t {
    switch (it.kind) {
      case ItemKind::kControl: return 1;
      case ItemKind::kLiteral: return static_cast<int64_t>(it.literal.size());
      case ItemKind::kName: return names_.empty() ? 0 : name_left_[0];
      case ItemKind::kJson: return 2;  // {}
      case ItemKind::kAfterCall: return 1;  // <｜tool▁calls▁end｜>
    }
    return 0;
  };
  after_.assign(items_.size(), 0);
  int64_t total = 1;  // the end token
  for (size_t i = items_.size(); i-- > 0;) {
    after_[i] = total;
    // The separator item only comes between calls, never on the way to the end.
    if (!(i == call_start_ && call_start_ > 0 && items_[i].kind == ItemKind::kLiteral)) total += cost(items_[i]);
  }
  enter(state_, 0);
}

int64_t OutputConstraint::distance(const State& s) const {
  if (s.ended) return 0;
  const Item& it = items_[s.item];
  int64_t here = 0;
  switch (it.kind) {
    case ItemKind::kControl: here = 1; break;
    case ItemKind::kLiteral: here = static_cast<int64_t>(it.literal.size()) - s.pos; break;
    case ItemKind::kName: here = name_left_[s.pos]; break;
    case ItemKind::kJson: here = s.json.distance(); break;
    case ItemKind::kAfterCall: here = 1; break;
  }
  return here + after_[s.item];
}

// Moves to `item`, skipping the separator before the first call; past the
// last item the output is complete.
void OutputConstraint::enter(State& s, uint16_t item) const {
  const bool fenced_separator = item == call_start_ && call_start_ > 0 && items_[item].kind == ItemKind::kLiteral;
  if (fenced_separator && s.calls == 0) ++item;
  if (item >= items_.size()) {
    s.ended = true;
    return;
  }
  s.item = item;
  s.pos = 0;
  if (items_[item].kind == ItemKind::kJson) s.json = JsonAutomaton(true);
}

bool OutputConstraint::accept_byte(State& s, uint8_t b) const {
  if (s.ended) return false;
  for (int guard = 0; guard < 4; ++guard) {
    const Item& it = items_[s.item];
    switch (it.kind) {
      case ItemKind::kLiteral:
        if (static_cast<uint8_t>(it.literal[s.pos]) != b) return false;
        if (++s.pos == it.literal.size()) enter(s, static_cast<uint16_t>(s.item + 1));
        return true;
      case ItemKind::kName: {
        for (const auto& [byte, child] : names_[s.pos].children)
          if (byte == b) {
            s.pos = child;
            return true;
          }
        if (!names_[s.pos].terminal) return false;
        enter(s, static_cast<uint16_t>(s.item + 1));
        continue;  // the byte belongs to what follows the name
      }
      case ItemKind::kJson:
        if (!s.json.feed(b)) return false;
        if (s.json.complete()) enter(s, static_cast<uint16_t>(s.item + 1));
        return true;
      case ItemKind::kAfterCall:
        if (s.calls >= max_calls_ || items_[call_start_].kind != ItemKind::kLiteral) return false;
        enter(s, call_start_);
        continue;
      case ItemKind::kControl:
        return false;
    }
  }
  return false;
}

bool OutputConstraint::accept_control(State& s, int32_t id) const {
  if (s.ended) return false;
  for (int guard = 0; guard < 4; ++guard) {
    const Item& it = items_[s.item];
    switch (it.kind) {
      case ItemKind::kControl:
        if (id != it.id) return false;
        if (s.item + 1 < static_cast<int>(items_.size()) && items_[s.item + 1].kind == ItemKind::kAfterCall) ++s.calls;
        enter(s, static_cast<uint16_t>(s.item + 1));
        return true;
      case ItemKind::kName:
        if (!names_[s.pos].terminal) return false;
        enter(s, static_cast<uint16_t>(s.item + 1));
        continue;
      case ItemKind::kAfterCall:
        if (id == calls_end_) {
          s.ended = true;
          return true;
        }
        if (s.calls >= max_calls_ || items_[call_start_].kind == ItemKind::kLiteral) return false;
        enter(s, call_start_);
        continue;
      default:
        return false;
    }
  }
  return false;
}

bool OutputConstraint::accept_token(State& s, int32_t id) const {
  if (id < 0 || id >= vocab_->vocab_size()) return false;
  if (is_end_[static_cast<size_t>(id)]) return s.ended;
  if (vocab_->is_control(id)) return accept_control(s, id);
  const std::string& bytes = vocab_->bytes(id);
  if (bytes.empty()) return false;
  State c = s;
  for (char ch : bytes)
    if (!accept_byte(c, static_cast<uint8_t>(ch))) return false;
  s = c;
  return true;
}

uint64_t OutputConstraint::state_hash(const State& s) const {
  const uint64_t head[] = {s.item, s.pos, s.calls, s.ended};
  return fnv1a(head, sizeof head, s.json.hash());
}

void OutputConstraint::compute_mask(const State& s, int64_t limit, std::vector<uint64_t>& bits) const {
  const auto& nodes = vocab_->nodes();
  const auto& ids = vocab_->token_ids();
  bits.assign((static_cast<size_t>(vocab_->vocab_size()) + 63) / 64, 0);
  auto set = [&](int32_t id) { bits[static_cast<size_t>(id) >> 6] |= uint64_t{1} << (id & 63); };
  if (s.ended) {
    for (int32_t t : end_tokens_) set(t);
    return;
  }
  auto fits = [&](const State& after) { return limit < 0 || distance(after) <= limit; };
  for (int32_t id : vocab_->control_tokens()) {
    if (is_end_[static_cast<size_t>(id)]) continue;
    State c = s;
    if (accept_control(c, id) && fits(c)) set(id);
  }
  // Depth-first over the trie; each level holds the state after its byte.
  struct Frame {
    uint32_t child;
    State state;
  };
  std::vector<Frame> stack;
  stack.push_back({nodes[0].first_child, s});
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.child == 0) {
      stack.pop_back();
      continue;
    }
    const uint32_t node = f.child;
    f.child = nodes[node].next_sibling;
    State c = f.state;
    if (!accept_byte(c, nodes[node].byte)) continue;
    if (nodes[node].n_tokens > 0 && fits(c))
      for (uint32_t i = 0; i < nodes[node].n_tokens; ++i) set(ids[nodes[node].first_token + i]);
    if (nodes[node].first_child != 0) stack.push_back({nodes[node].first_child, c});
  }
}

void OutputConstraint::apply(std::span<float> logits, std::span<const int32_t> output) {
  for (; consumed_ < output.size(); ++consumed_)
    if (!accept_token(state_, output[consumed_])) broken_ = true;

  // Tokens left after this one, and the most the output may then still need.
  // One token adds at most its bytes to the distance, or (starting another
  // tool call) a whole call, which is less than the distance from the start;
  // farther from the budget than that no token can break it, and masks are
  // cached by state.
  const int64_t left = max_tokens_ - static_cast<int64_t>(output.size()) - 1;
  const int64_t needed = distance(state_);
  if (left + 1 <= needed) forced_ = true;
  const int64_t jump = static_cast<int64_t>(vocab_->max_token_bytes()) + after_[0] + 2;
  const bool budget = left < needed + jump;
  const int64_t limit = budget ? std::max(left, needed - 1) : -1;
  const uint64_t key = state_hash(state_);
  const std::vector<uint64_t>* bits = nullptr;
  if (auto it = cache_.find(key); !budget && it != cache_.end() && it->second.state == state_) {
    bits = &it->second.bits;
  } else if (budget) {
    compute_mask(state_, limit, scratch_);
    bool any = false;
    for (uint64_t w : scratch_) any = any || w != 0;
    if (!any) {
      broken_ = true;
      for (int32_t t : end_tokens_) scratch_[static_cast<size_t>(t) >> 6] |= uint64_t{1} << (t & 63);
    }
    bits = &scratch_;
  } else {
    compute_mask(state_, -1, scratch_);
    bool any = false;
    for (uint64_t w : scratch_) any = any || w != 0;
    if (!any) {  // a dead end: end the answer rather than draw from nothing
      broken_ = true;
      for (int32_t t : end_tokens_) scratch_[static_cast<size_t>(t) >> 6] |= uint64_t{1} << (t & 63);
    }
    if (cache_.size() >= 256) cache_.clear();
    bits = &cache_.insert_or_assign(key, CachedMask{state_, scratch_}).first->second.bits;
  }
  const float neg = -std::numeric_limits<float>::infinity();
  const size_t n = std::min(logits.size(), static_cast<size_t>(vocab_->vocab_size()));
  for (size_t i = 0; i < n; ++i)
    if (((*bits)[i >> 6] >> (i & 63) & 1) == 0) logits[i] = neg;
  for (size_t i = n; i < logits.size(); ++i) logits[i] = neg;
}

std::vector<bool> OutputConstraint::allowed_after(std::span<const int32_t> output) {
  State s;
  enter(s, 0);
  for (int32_t t : output)
    if (!accept_token(s, t)) return std::vector<bool>(static_cast<size_t>(vocab_->vocab_size()), false);
  std::vector<uint64_t> bits;
  compute_mask(s, -1, bits);
  std::vector<bool> out(static_cast<size_t>(vocab_->vocab_size()));
  for (size_t i = 0; i < out.size(); ++i) out[i] = (bits[i >> 6] >> (i & 63)) & 1;
  return out;
}

}  // namespace dseek::server
