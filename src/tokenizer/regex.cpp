#include "tokenizer/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <cctype>

#include "tokenizer/utf8.h"

namespace dseek {

namespace {

// Oniguruma -> PCRE2, for the differences that matter to tokenizer patterns:
//  - \s, \S: Oniguruma's is Unicode White_Space; PCRE2's (with UCP) also
//    matches U+180E. Written as \p{White_Space} / \P{White_Space}.
//  - \w, \W: Oniguruma's word characters are Letter, Mark, Number and
//    Connector_Punctuation; PCRE2 10.42's omit marks and connectors.
//  - \h, \H: hexadecimal digits in Oniguruma, horizontal space in PCRE2.
//  - \v: the vertical tab character in Oniguruma, a class in PCRE2.
//  - \uHHHH: a code point in Oniguruma, not accepted by PCRE2.
//  - (?i:...): the reference tokenizers (and llama.cpp) fold only ASCII
//    letters; PCRE2 would also fold e.g. U+017F into 's'. Letters inside such
//    a group become explicit [xX] sets.
//  - ^ and $ are line anchors in Oniguruma (Ruby syntax): PCRE2_MULTILINE.
// Nested classes and class intersection (&&) have no PCRE2 equivalent and are
// refused.
constexpr const char* kWordSet = "\\p{L}\\p{M}\\p{N}\\p{Pc}";

bool is_ascii_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char other_case(char c) {
  return std::islower(static_cast<unsigned char>(c)) ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
                                                     : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

Error pattern_error(std::string_view pattern, size_t at, const std::string& what) {
  return Error{"regex '" + std::string(pattern) + "' at offset " + std::to_string(at) + ": " + what};
}

}  // namespace

Result<std::string> translate_pattern(std::string_view p) {
  std::string out;
  out.reserve(p.size() + 16);
  bool in_class = false;
  size_t class_start = 0;           // offset of the first item of the class
  std::vector<bool> group_ci{false};  // case-insensitive state per open group
  auto ci = [&] { return group_ci.back(); };

  size_t i = 0;
  while (i < p.size()) {
    char c = p[i];
    if (c == '\\') {
      if (i + 1 >= p.size()) return pattern_error(p, i, "trailing backslash");
      char e = p[i + 1];
      switch (e) {
        case 's': out += "\\p{White_Space}"; i += 2; continue;
        case 'S': out += "\\P{White_Space}"; i += 2; continue;
        case 'w':
          out += in_class ? std::string(kWordSet) : "[" + std::string(kWordSet) + "]";
          i += 2;
          continue;
        case 'W':
          if (in_class) return pattern_error(p, i, "\\W inside a character class is not supported");
          out += "[^" + std::string(kWordSet) + "]";
          i += 2;
          continue;
        case 'h': out += in_class ? "0-9a-fA-F" : "[0-9a-fA-F]"; i += 2; continue;
        case 'H':
          if (in_class) return pattern_error(p, i, "\\H inside a character class is not supported");
          out += "[^0-9a-fA-F]";
          i += 2;
          continue;
        case 'v': out += "\\x{0B}"; i += 2; continue;
        case 'u': {
          if (i + 6 > p.size()) return pattern_error(p, i, "\\u needs four hex digits");
          std::string hex(p.substr(i + 2, 4));
          for (char h : hex)
            if (!std::isxdigit(static_cast<unsigned char>(h))) return pattern_error(p, i, "\\u needs four hex digits");
          out += "\\x{" + hex + "}";
          i += 6;
          continue;
        }
        case 'p':
        case 'P':
        case 'x': {
          // Copy \p{..} / \x{..} whole so the braces are not read as a quantifier.
          size_t end = i + 2;
          if (end < p.size() && p[end] == '{') {
            size_t close = p.find('}', end);
            if (close == std::string_view::npos) return pattern_error(p, i, "unterminated \\" + std::string(1, e) + "{");
            end = close + 1;
          }
          out.append(p.substr(i, end - i));
          i = end;
          continue;
        }
        default:
          out += c;
          out += e;
          i += 2;
          continue;
      }
    }
    if (in_class) {
      if (c == ']' && i > class_start) {
        in_class = false;
        out += c;
        ++i;
        continue;
      }
      if (c == '[') {
        if (i + 1 < p.size() && p[i + 1] == ':') {  // POSIX class [:alpha:]
          size_t close = p.find(":]", i + 2);
          if (close == std::string_view::npos) return pattern_error(p, i, "unterminated POSIX class");
          out.append(p.substr(i, close + 2 - i));
          i = close + 2;
          continue;
        }
        return pattern_error(p, i, "nested character classes are not supported");
      }
      if (c == '&' && i + 1 < p.size() && p[i + 1] == '&')
        return pattern_error(p, i, "character class intersection (&&) is not supported");
      if (ci() && is_ascii_letter(c)) {
        // A letter range a-f adds A-F; a single letter adds its other case.
        if (i + 2 < p.size() && p[i + 1] == '-' && is_ascii_letter(p[i + 2]) &&
            std::islower(static_cast<unsigned char>(c)) == std::islower(static_cast<unsigned char>(p[i + 2]))) {
          out += p.substr(i, 3);
          out += other_case(c);
          out += '-';
          out += other_case(p[i + 2]);
          i += 3;
          continue;
        }
        out += c;
        out += other_case(c);
        ++i;
        continue;
      }
      out += c;
      ++i;
      continue;
    }
    switch (c) {
      case '[':
        in_class = true;
        out += c;
        ++i;
        if (i < p.size() && p[i] == '^') out += p[i++];
        class_start = i;  // a ']' right here is a literal
        continue;
      case '(':
        if (p.substr(i, 4) == "(?i:") {
          group_ci.push_back(true);
          out += "(?:";
          i += 4;
          continue;
        }
        if (p.substr(i, 4) == "(?i)") {
          group_ci.back() = true;
          i += 4;
          continue;
        }
        if (i + 2 < p.size() && p[i + 1] == '?') {
          char k = p[i + 2];
          bool known = k == ':' || k == '=' || k == '!' || k == '>' ||
                       (k == '<' && i + 3 < p.size() && (p[i + 3] == '=' || p[i + 3] == '!'));
          if (!known) return pattern_error(p, i, "group syntax '(?" + std::string(1, k) + "' is not supported");
        }
        group_ci.push_back(ci());
        out += c;
        ++i;
        continue;
      case ')':
        if (group_ci.size() <= 1) return pattern_error(p, i, "unbalanced ')'");
        group_ci.pop_back();
        out += c;
        ++i;
        continue;
      default:
        if (ci() && is_ascii_letter(c)) {
          out += '[';
          out += c;
          out += other_case(c);
          out += ']';
        } else {
          out += c;
        }
        ++i;
        continue;
    }
  }
  if (in_class) return pattern_error(p, p.size(), "unterminated character class");
  return out;
}

struct Regex::Code {
  pcre2_code* code = nullptr;
  bool jit = false;
  ~Code() { pcre2_code_free(code); }
};

namespace {

// Per-thread match state: PCRE2 match data and the JIT stack must not be
// shared between threads, and allocating them per call would dominate the
// cost of short matches.
struct ThreadMatchState {
  pcre2_match_data* data = nullptr;
  pcre2_match_context* context = nullptr;
  pcre2_jit_stack* jit_stack = nullptr;
  ThreadMatchState() {
    data = pcre2_match_data_create(1, nullptr);
    context = pcre2_match_context_create(nullptr);
    jit_stack = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, nullptr);
    // Bounds for pathological patterns from an untrusted tokenizer.json: a
    // match that needs more gives an error instead of hanging.
    pcre2_set_match_limit(context, 50'000'000);
    pcre2_set_depth_limit(context, 1'000'000);
    if (jit_stack) pcre2_jit_stack_assign(context, nullptr, jit_stack);
  }
  ~ThreadMatchState() {
    pcre2_jit_stack_free(jit_stack);
    pcre2_match_context_free(context);
    pcre2_match_data_free(data);
  }
};

ThreadMatchState& match_state() {
  thread_local ThreadMatchState state;
  return state;
}

int run_match(const pcre2_code* code, std::string_view subject, size_t start, uint32_t options) {
  ThreadMatchState& st = match_state();
  return pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), start,
                     options | PCRE2_NO_UTF_CHECK, st.data, st.context);
}

}  // namespace

Result<Regex> Regex::compile(std::string_view pattern) {
  auto translated = translate_pattern(pattern);
  if (!translated) return translated.error();
  pcre2_compile_context* cctx = pcre2_compile_context_create(nullptr);
  pcre2_set_newline(cctx, PCRE2_NEWLINE_LF);
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated->data()), translated->size(),
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE | PCRE2_NEVER_BACKSLASH_C, &error_code,
                                   &error_offset, cctx);
  pcre2_compile_context_free(cctx);
  if (!code) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error_code, message, sizeof(message));
    return Error{"regex '" + std::string(pattern) + "': " + reinterpret_cast<const char*>(message) +
                 " (at offset " + std::to_string(error_offset) + " of the PCRE2 form '" + translated.value() + "')"};
  }
  auto compiled = std::make_shared<Code>();
  compiled->code = code;
  // JIT is an optimisation: without it (e.g. an unsupported CPU) PCRE2's
  // interpreter gives the same matches.
  compiled->jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
  return Regex(std::string(pattern), std::move(compiled));
}

Status Regex::find_all(std::string_view subject, std::vector<RegexMatch>& out) const {
  size_t search_from = 0;
  bool have_last = false;
  size_t last_end = 0;
  while (search_from <= subject.size()) {
    int rc = run_match(code_->code, subject, search_from, 0);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(rc, message, sizeof(message));
      return Error{"regex '" + pattern_ + "': " + reinterpret_cast<const char*>(message)};
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(match_state().data);
    size_t s = ov[0], e = ov[1];
    if (s == e && have_last && e == last_end) {
      // Oniguruma's iterator skips an empty match right after the previous
      // match and searches again one character further on.
      if (search_from >= subject.size()) break;
      size_t n = utf8::sequence_length(subject, search_from);
      search_from += n == 0 ? 1 : n;
      continue;
    }
    out.push_back({s, e});
    have_last = true;
    last_end = e;
    search_from = e;
  }
  return ok_status();
}

bool Regex::matches_at_start(std::string_view subject) const {
  return run_match(code_->code, subject, 0, PCRE2_ANCHORED) >= 0;
}

}  // namespace dseek
