#include "engine/text_stream.h"

#include <algorithm>

namespace dseek {

namespace {

constexpr std::string_view kOpen = "<think>";
constexpr std::string_view kClose = "</think>";

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// Length of the longest suffix of `text` that is a proper prefix of `tag`.
size_t partial_suffix(std::string_view text, std::string_view tag) {
  for (size_t n = std::min(text.size(), tag.size() - 1); n > 0; --n)
    if (text.substr(text.size() - n) == tag.substr(0, n)) return n;
  return 0;
}

}  // namespace

StopStringMatcher::StopStringMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {
  std::erase_if(stops_, [](const std::string& s) { return s.empty(); });
}

std::string StopStringMatcher::feed(std::string_view text) {
  if (stopped_) return {};
  pending_.append(text);
  size_t first = std::string::npos;
  for (const std::string& s : stops_) first = std::min(first, pending_.find(s));
  if (first != std::string::npos) {
    stopped_ = true;
    std::string out = pending_.substr(0, first);
    pending_.clear();
    return out;
  }
  size_t hold = 0;
  for (const std::string& s : stops_) hold = std::max(hold, partial_suffix(pending_, s));
  std::string out = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  return out;
}

std::string StopStringMatcher::flush() {
  std::string out = stopped_ ? std::string() : pending_;
  pending_.clear();
  return out;
}

ReasoningSplitter::ReasoningSplitter(bool starts_in_reasoning)
    : state_(starts_in_reasoning ? State::kReasoning : State::kMaybeOpen) {}

void ReasoningSplitter::step(Delta& out, bool final) {
  for (;;) {
    if (state_ == State::kMaybeOpen) {
      // Only whitespace may come before a model's own <think>.
      size_t start = 0;
      while (start < pending_.size() && is_space(pending_[start])) ++start;
      std::string_view rest = std::string_view(pending_).substr(start);
      if (rest.size() >= kOpen.size() && rest.substr(0, kOpen.size()) == kOpen) {
        pending_.erase(0, start + kOpen.size());
        state_ = State::kReasoning;
        continue;
      }
      if (!final && kOpen.substr(0, rest.size()) == rest) return;  // may still become <think>
      state_ = State::kContent;
      continue;
    }
    if (state_ == State::kReasoning) {
      size_t close = pending_.find(kClose);
      std::string text = close == std::string::npos ? pending_ : pending_.substr(0, close);
      size_t hold = close == std::string::npos && !final ? partial_suffix(pending_, kClose) : 0;
      text.resize(text.size() - hold);
      // Emit reasoning without leading whitespace; keep trailing whitespace
      // back until more text shows it is not trailing.
      for (char c : text) {
        if (!reasoning_started_ && is_space(c)) continue;
        if (is_space(c)) {
          held_whitespace_ += c;
          continue;
        }
        reasoning_started_ = true;
        out.reasoning += held_whitespace_;
        held_whitespace_.clear();
        out.reasoning += c;
      }
      if (close == std::string::npos) {
        pending_.erase(0, pending_.size() - hold);
        return;
      }
      held_whitespace_.clear();
      pending_.erase(0, close + kClose.size());
      state_ = State::kContent;
      continue;
    }
    // Content: drop leading whitespace, then pass everything through.
    if (!content_started_) {
      size_t start = 0;
      while (start < pending_.size() && is_space(pending_[start])) ++start;
      pending_.erase(0, start);
      if (pending_.empty()) return;
      content_started_ = true;
    }
    out.content += pending_;
    pending_.clear();
    return;
  }
}

ReasoningSplitter::Delta ReasoningSplitter::feed(std::string_view text) {
  Delta out;
  pending_.append(text);
  step(out, false);
  return out;
}

ReasoningSplitter::Delta ReasoningSplitter::flush() {
  Delta out;
  step(out, true);
  return out;
}

}  // namespace dseek
