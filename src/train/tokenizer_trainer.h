// `dseek train tokenizer`: a byte-level BPE tokenizer in DeepSeek-V3's
// format, learned from text files. The pre-tokenizer is V3's (digits in
// runs of up to three, CJK runs, then the word/punctuation/space pattern;
// byte-level, no prefix space), and the chat and reasoning tokens are
// reserved as added tokens, so they never split and BPE never learns their
// pieces:
//   <｜begin▁of▁sentence｜> 0, <｜end▁of▁sentence｜> 1, <｜▁pad▁｜> 2 (special),
//   then the 256 byte tokens, then the learned merges, then
//   <｜User｜> <｜Assistant｜> <think> </think> <｜fim▁hole｜> <｜fim▁begin｜> <｜fim▁end｜>
//   and the tool-call tokens (<｜tool▁calls▁begin｜> ... <｜tool▁sep｜>) at the end.
// Output: tokenizer.json, tokenizer_config.json (with an R1-style chat
// template) and special_tokens_map.json, which Hugging Face's tokenizers
// load (tests/train/tokenizer_trainer_test.cpp checks the JS tokenizer).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/result.h"

namespace dseek::train {

struct TokenizerTrainOptions {
  std::vector<std::string> inputs;  // .txt or .jsonl ({"text": ...}) files
  int64_t vocab_size = 8192;        // including the reserved tokens
  int64_t min_frequency = 2;
  int64_t max_bytes = int64_t{1} << 32;  // read at most this much text
};

struct TrainedTokenizer {
  int64_t vocab_size = 0;   // largest id + 1
  int64_t merges = 0;
  int64_t words = 0;        // distinct pre-tokens seen
  int64_t bytes = 0;        // text read
};

// The reserved tokens, in id order of the two groups (first three at ids
// 0..2, the rest after the learned tokens).
const std::vector<std::string>& reserved_leading_tokens();
const std::vector<std::string>& reserved_trailing_tokens();

Result<TrainedTokenizer> train_tokenizer(const TokenizerTrainOptions& options, const std::string& out_dir);

}  // namespace dseek::train
