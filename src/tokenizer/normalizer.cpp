#include "tokenizer/normalizer.h"

#include <cstdlib>

#include <utf8proc.h>

namespace dseek {

const char* normalization_form_name(NormalizationForm form) {
  switch (form) {
    case NormalizationForm::kNFC: return "NFC";
    case NormalizationForm::kNFD: return "NFD";
    case NormalizationForm::kNFKC: return "NFKC";
    case NormalizationForm::kNFKD: return "NFKD";
  }
  return "?";
}

namespace {

bool is_ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

Result<std::string> normalize(std::string_view text, NormalizationForm form) {
  int options = UTF8PROC_STABLE;
  switch (form) {
    case NormalizationForm::kNFC: options |= UTF8PROC_COMPOSE; break;
    case NormalizationForm::kNFD: options |= UTF8PROC_DECOMPOSE; break;
    case NormalizationForm::kNFKC: options |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT; break;
    case NormalizationForm::kNFKD: options |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT; break;
  }
  utf8proc_uint8_t* out = nullptr;
  utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                    static_cast<utf8proc_ssize_t>(text.size()), &out,
                                    static_cast<utf8proc_option_t>(options));
  if (n < 0) {
    std::free(out);
    return Error{std::string("Unicode normalization (") + normalization_form_name(form) +
                 ") failed: " + utf8proc_errmsg(n)};
  }
  std::string result(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
  std::free(out);
  return result;
}

}  // namespace

Result<std::string> Normalizer::apply(std::string_view text) const {
  std::string current(text);
  // Every normalization form leaves ASCII text unchanged.
  if (is_ascii(current)) return current;
  for (NormalizationForm form : steps_) {
    auto next = normalize(current, form);
    if (!next) return next.error();
    current = std::move(next.value());
  }
  return current;
}

}  // namespace dseek
