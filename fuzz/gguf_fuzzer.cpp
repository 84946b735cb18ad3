// Feeds arbitrary bytes to the GGUF parser as a whole file. Whatever it
// accepts must describe tensors inside the buffer and metadata that can be
// walked; the fuzzer touches each tensor's first and last byte and renders
// every value to prove it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "formats/gguf.h"

namespace {
size_t walk(const dseek::GgufValue& v) {
  size_t n = v.describe().size();
  if (!v.is_array()) return n;
  for (const auto& s : v.strings) n += s.size();
  for (const auto& a : v.arrays) n += walk(a);
  if (v.elements)
    for (uint64_t i = 0; i < v.count; ++i) n += v.element(i).describe().size();
  return n;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto header = dseek::parse_gguf(data, size, "fuzz");
  if (!header) return 0;
  volatile size_t sink = 0;
  for (const auto& [key, value] : header->metadata) sink = sink + key.size() + walk(value);
  for (const auto& t : header->tensors) {
    if (t.offset > size || t.n_bytes > size - t.offset || t.offset % header->alignment != 0) __builtin_trap();
    if (t.n_bytes > 0) sink = sink + data[t.offset] + data[t.offset + t.n_bytes - 1];
  }
  (void)sink;
  return 0;
}
