// The template text as the lexer sees it, after the reference's preprocessing
// (what transformers configures: trim_blocks and lstrip_blocks on, the last
// newline dropped, {% generation %} tags removed), with a map back to the
// original text so that errors name a line and column the author can find.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dseek::jinja {

struct Source {
  std::string original;
  std::string text;                // preprocessed
  std::vector<uint32_t> origin;    // origin[i]: offset in `original` of text[i]; size text.size() + 1

  // Offsets here are into `text`.
  size_t original_offset(size_t offset) const;
  // 1-based line and column (in code points) of an offset into `text`.
  void line_column(size_t offset, size_t& line, size_t& column) const;
};

Source preprocess(std::string_view original);

}  // namespace dseek::jinja
