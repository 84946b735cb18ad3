// Training data: corpora of token ids, and the batches drawn from them.
// Text corpora are .txt (one document per file) or .jsonl (one
// {"text": ...} document per line); each document is encoded on its own
// and framed by BOS ... EOS. Pre-tokenized corpora are .tokens files:
//   "DSKTOKS1", u32 version (1), u32 reserved (0), u64 count, count x u32 ids
// (little-endian), as `dseek train tokenize` writes them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace dseek::train {

using Encoder = std::function<Result<std::vector<int32_t>>(std::string_view text)>;

struct CorpusOptions {
  Encoder encode;        // required for text files
  int32_t bos_id = -1;   // -1: none
  int32_t eos_id = -1;
  int64_t vocab_size = 0;  // every id must be below it
};

// The first invalid byte of `text` as an offset, or -1 when it is valid UTF-8
// (no overlong forms, no surrogates, nothing above U+10FFFF).
int64_t first_invalid_utf8(std::string_view text);

// The documents of one text file (errors: unreadable, not UTF-8 with the
// byte offset, bad JSON lines with the line number, no text at all).
Result<std::vector<std::string>> read_documents(const std::string& path);
// The same for text already in memory; `source` names it in messages.
Result<std::vector<std::string>> parse_documents(std::string_view text, bool jsonl, const std::string& source);

// All files back to back; an empty result is an error.
Result<std::vector<int32_t>> load_corpus(const std::vector<std::string>& files, const CorpusOptions& options);

Status write_token_file(const std::string& path, const std::vector<int32_t>& ids);
Result<std::vector<int32_t>> read_token_file(const std::string& path);
Result<std::vector<int32_t>> parse_token_file(const uint8_t* data, size_t size, const std::string& source);

// n_seq windows of seq_len + 1 consecutive ids at offsets that depend only
// on (seed, step, micro): the same run twice, or a resumed run, draws the
// same batches.
void sample_batch(const std::vector<int32_t>& data, uint64_t seed, int64_t step, int64_t micro, int64_t n_seq,
                  int64_t seq_len, int32_t* out);
// Validation batch `index` of windows spread evenly over the data.
void validation_batch(const std::vector<int32_t>& data, int64_t index, int64_t n_batches, int64_t n_seq,
                      int64_t seq_len, int32_t* out);

}  // namespace dseek::train
