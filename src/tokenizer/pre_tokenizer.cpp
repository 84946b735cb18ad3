#include "tokenizer/pre_tokenizer.h"

#include <algorithm>

namespace dseek {

const char* const kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

namespace {

struct Span {
  size_t start, end;
  bool is_match;
};

// The piece as consecutive spans, each a match or the text between matches
// (HF's Pattern::find_matches).
Status find_spans(std::string_view piece, const std::vector<Regex>& regex, const std::string& literal, bool invert,
                  std::vector<RegexMatch>& scratch, std::vector<Span>& spans) {
  spans.clear();
  scratch.clear();
  if (!regex.empty()) {
    DSEEK_TRY(regex.front().find_all(piece, scratch));
  } else if (!literal.empty()) {
    for (size_t at = piece.find(literal); at != std::string_view::npos; at = piece.find(literal, at + literal.size()))
      scratch.push_back({at, at + literal.size()});
  }
  size_t prev = 0;
  for (const RegexMatch& m : scratch) {
    if (m.start > prev) spans.push_back({prev, m.start, invert});
    spans.push_back({m.start, m.end, !invert});
    prev = m.end;
  }
  if (prev < piece.size()) spans.push_back({prev, piece.size(), invert});
  return ok_status();
}

// Applies a SplitBehavior to the spans (HF's NormalizedString::split); the
// pieces that come out empty are dropped, as PreTokenizedString::split does.
void apply_behavior(std::string_view piece, const std::vector<Span>& spans, SplitBehavior behavior,
                    std::vector<std::string_view>& out) {
  auto emit = [&](size_t start, size_t end) {
    if (end > start) out.push_back(piece.substr(start, end - start));
  };
  switch (behavior) {
    case SplitBehavior::kIsolated:
      for (const Span& s : spans) emit(s.start, s.end);
      return;
    case SplitBehavior::kRemoved:
      for (const Span& s : spans)
        if (!s.is_match) emit(s.start, s.end);
      return;
    case SplitBehavior::kContiguous:
    case SplitBehavior::kMergedWithPrevious: {
      // Grow the current range while the rule says "join", emit it otherwise.
      bool have = false, previous_match = false;
      size_t start = 0, end = 0;
      for (const Span& s : spans) {
        bool join = behavior == SplitBehavior::kContiguous ? s.is_match == previous_match
                                                           : s.is_match && !previous_match;
        if (join && have) {
          end = s.end;
        } else {
          if (have) emit(start, end);
          start = s.start;
          end = s.end;
          have = true;
        }
        previous_match = s.is_match;
      }
      if (have) emit(start, end);
      return;
    }
    case SplitBehavior::kMergedWithNext: {
      // Right to left: a match joins the piece that follows it.
      const size_t first = out.size();
      bool have = false, previous_match = false;
      size_t start = 0, end = 0;
      for (size_t k = spans.size(); k-- > 0;) {
        const Span& s = spans[k];
        if (s.is_match && !previous_match && have) {
          start = s.start;
        } else {
          if (have) emit(start, end);
          start = s.start;
          end = s.end;
          have = true;
        }
        previous_match = s.is_match;
      }
      if (have) emit(start, end);
      std::reverse(out.begin() + static_cast<std::ptrdiff_t>(first), out.end());
      return;
    }
  }
}

}  // namespace

Result<PreTokenizer> PreTokenizer::build(const std::vector<PreTokenizerStep>& steps) {
  PreTokenizer pt;
  for (size_t i = 0; i < steps.size(); ++i) {
    Step step;
    if (const auto* split = std::get_if<SplitStep>(&steps[i])) {
      if (split->is_regex) {
        auto regex = Regex::compile(split->pattern);
        if (!regex) return regex.error();
        step.regex.push_back(std::move(regex.value()));
      } else {
        step.literal = split->pattern;
      }
      step.behavior = split->behavior;
      step.invert = split->invert;
    } else {
      const auto& bl = std::get<ByteLevelStep>(steps[i]);
      if (i + 1 != steps.size())
        return Error{"ByteLevel must be the last pre-tokenizer step (it is step " + std::to_string(i) + " of " +
                     std::to_string(steps.size()) + ")"};
      step.is_byte_level = true;
      step.add_prefix_space = bl.add_prefix_space;
      if (bl.use_regex) {
        auto regex = Regex::compile(kGpt2Pattern);
        if (!regex) return regex.error();
        step.regex.push_back(std::move(regex.value()));
      }
      pt.byte_level_ = true;
    }
    pt.steps_.push_back(std::move(step));
  }
  return pt;
}

Status PreTokenizer::split(std::string_view text, std::vector<std::string_view>& pieces,
                           std::deque<std::string>& storage) const {
  if (text.empty()) return ok_status();
  std::vector<std::string_view> current{text}, next;
  std::vector<RegexMatch> scratch;
  std::vector<Span> spans;
  for (const Step& step : steps_) {
    next.clear();
    for (std::string_view piece : current) {
      if (step.is_byte_level) {
        if (step.add_prefix_space && piece.front() != ' ') {
          std::string& prefixed = storage.emplace_back();
          prefixed.reserve(piece.size() + 1);
          prefixed += ' ';
          prefixed += piece;
          piece = prefixed;
        }
        if (step.regex.empty()) {
          next.push_back(piece);
          continue;
        }
      }
      DSEEK_TRY(find_spans(piece, step.regex, step.literal, step.invert, scratch, spans));
      apply_behavior(piece, spans, step.is_byte_level ? SplitBehavior::kIsolated : step.behavior, next);
    }
    current.swap(next);
  }
  pieces.insert(pieces.end(), current.begin(), current.end());
  return ok_status();
}

}  // namespace dseek
