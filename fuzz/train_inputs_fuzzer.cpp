// What `dseek train pretrain` reads from files it is given, as arbitrary
// bytes: the training config, a .jsonl / .txt corpus and a .tokens file.
// Each must come back as a value or a message; accepted values must be
// usable (the checks below are what the trainer relies on).
#include <cstddef>
#include <cstdint>
#include <string>

#include "train/dataset.h"
#include "train/train_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the parser, so one corpus covers all three.
  const uint8_t which = data[0] % 3;
  const uint8_t* body = data + 1;
  const size_t n = size - 1;
  const std::string_view text(reinterpret_cast<const char*>(body), n);
  if (which == 0) {
    auto c = dseek::train::parse_pretrain_config(std::string(text), "/nonexistent/train.json");
    if (c && (c->seq_len < 2 || c->batch_size < 1 || c->grad_accum < 1 || c->steps < 1)) __builtin_trap();
    if (c) (void)dseek::train::validate_pretrain_config(c.value());
  } else if (which == 1) {
    for (bool jsonl : {false, true}) {
      auto docs = dseek::train::parse_documents(text, jsonl, "corpus");
      if (!docs) continue;
      if (docs->empty()) __builtin_trap();
      for (const std::string& d : docs.value())
        if (d.empty() || dseek::train::first_invalid_utf8(d) >= 0) __builtin_trap();
    }
  } else {
    auto ids = dseek::train::parse_token_file(body, n, "corpus.tokens");
    if (ids)
      for (int32_t id : ids.value())
        if (id < 0) __builtin_trap();
  }
  return 0;
}
