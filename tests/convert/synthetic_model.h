// Hugging Face folders the tests write themselves, for shapes the committed
// models do not have.
#pragma once

#include <string>

namespace dseek::testing {

// A 2-layer llama (hidden 256, ffn 512, 4 heads / 2 kv heads, vocab 384) with
// random f32 weights, every row a whole number of 256-element k-quant
// super-blocks, and llama3-tiny's tokenizer. Written to `dir` (created);
// returns dir.
std::string make_kquant_llama(const std::string& dir);

}  // namespace dseek::testing
