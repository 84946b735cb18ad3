#include "server/tool_calls.h"

namespace dseek::server {

namespace {

constexpr std::string_view kCallsBegin = "<｜tool▁calls▁begin｜>";
constexpr std::string_view kCallsEnd = "<｜tool▁calls▁end｜>";
constexpr std::string_view kCallBegin = "<｜tool▁call▁begin｜>";
constexpr std::string_view kCallEnd = "<｜tool▁call▁end｜>";
constexpr std::string_view kSep = "<｜tool▁sep｜>";

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool consume(std::string_view& s, std::string_view prefix) {
  if (s.substr(0, prefix.size()) != prefix) return false;
  s.remove_prefix(prefix.size());
  return true;
}

std::optional<ParsedToolCall> parse_call(std::string_view body) {
  const size_t sep = body.find(kSep);
  if (sep == std::string_view::npos) return std::nullopt;
  const std::string_view left = trim(body.substr(0, sep));
  std::string_view right = body.substr(sep + kSep.size());
  ParsedToolCall call;
  // V3 writes the type before the separator and fences the arguments on the
  // line after the name; V3.1 writes the name before the separator.
  const size_t nl = right.find('\n');
  const bool v3 = left == "function" && nl != std::string_view::npos &&
                  trim(right.substr(nl + 1)).substr(0, 3) == "```";
  if (v3) {
    call.name = std::string(trim(right.substr(0, nl)));
    std::string_view rest = trim(right.substr(nl + 1));
    consume(rest, "```");
    consume(rest, "json");
    if (rest.size() < 3 || rest.substr(rest.size() - 3) != "```") return std::nullopt;
    call.arguments = std::string(trim(rest.substr(0, rest.size() - 3)));
  } else {
    call.name = std::string(left);
    call.arguments = std::string(trim(right));
  }
  if (call.name.empty() || call.name.find_first_of(" \n\t<>") != std::string::npos) return std::nullopt;
  return call;
}

}  // namespace

std::optional<std::vector<ParsedToolCall>> parse_tool_calls(std::string_view text) {
  std::string_view s = trim(text);
  if (!consume(s, kCallsBegin)) return std::nullopt;
  std::vector<ParsedToolCall> calls;
  for (;;) {
    s = trim(s);
    if (s.empty() || consume(s, kCallsEnd)) break;
    if (!consume(s, kCallBegin)) return std::nullopt;
    const size_t end = s.find(kCallEnd);
    if (end == std::string_view::npos) return std::nullopt;
    auto call = parse_call(s.substr(0, end));
    if (!call) return std::nullopt;
    calls.push_back(std::move(*call));
    s.remove_prefix(end + kCallEnd.size());
  }
  if (!trim(s).empty() || calls.empty()) return std::nullopt;
  return calls;
}

}  // namespace dseek::server
