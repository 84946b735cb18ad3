// Arbitrary bytes as config.json: the parser must answer with a config or a
// message, and every config it accepts must be internally consistent enough
// for the model code (the checks below are what loaders rely on).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "model/config.h"
#include "model/param_count.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = dseek::parse_model_config(text, "config.json");
  if (!config) return 0;
  const dseek::ModelConfig& c = config.value();
  if (c.vocab_size <= 0 || c.hidden_size <= 0 || c.num_hidden_layers <= 0) __builtin_trap();
  // Grouped-query attention needs whole groups; MLA (DeepSeek) has no KV heads to group.
  if (!c.uses_mla() && c.num_attention_heads % c.num_key_value_heads != 0) __builtin_trap();
  if (c.moe.n_routed_experts > 0 && (c.moe.num_experts_per_tok > c.moe.n_routed_experts ||
                                     c.moe.n_routed_experts % c.moe.n_group != 0 || c.moe.topk_group > c.moe.n_group))
    __builtin_trap();
  (void)dseek::count_parameters(c);  // must not overflow (UBSan) on accepted configs
  return 0;
}
