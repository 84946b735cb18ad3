// dseek info MODEL: what a model is and what it costs to run.
#include <cstdio>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "model/param_count.h"

namespace dseek::cli {

namespace {

std::string human(double n, const char* unit) {
  const char* prefixes[] = {"", " K", " M", " B", " T"};
  int i = 0;
  while (n >= 1000.0 && i < 4) {
    n /= 1000.0;
    ++i;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3g%s%s", n, prefixes[i], unit);
  return buf;
}

std::string topk_method_name(TopkMethod m) {
  switch (m) {
    case TopkMethod::kGreedy: return "greedy";
    case TopkMethod::kGroupLimitedGreedy: return "group_limited_greedy";
    case TopkMethod::kNoauxTc: return "noaux_tc";
  }
  return "?";
}

}  // namespace

void register_info(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("info", "architecture, parameters and KV-cache size of a model");
  auto options = std::make_shared<ModelOptions>();
  auto as_json = std::make_shared<bool>(false);
  add_model_options(*cmd, *options);
  cmd->add_flag("--json", *as_json, "machine-readable output");
  cmd->callback([options, as_json, &exit_code] {
    auto loaded = load(*options);
    if (!loaded) {
      exit_code = report(loaded.error());
      return;
    }
    const Model& model = *loaded->model;
    const ModelConfig& c = model.config();
    const ParameterCount params = count_parameters(c);
    const KvCacheShape kv = model.kv_cache_shape();
    int64_t moe_layers = 0;
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) moe_layers += c.is_moe_layer(i) ? 1 : 0;

    if (*as_json) {
      nlohmann::json j = {{"family", family_name(c.family)},
                          {"layers", c.num_hidden_layers},
                          {"moe_layers", moe_layers},
                          {"hidden_size", c.hidden_size},
                          {"vocab_size", c.vocab_size},
                          {"parameters_total", params.total},
                          {"parameters_active", params.active},
                          {"parameters_mtp", params.mtp},
                          {"kv_cache_bytes_per_token", kv.bytes_per_token()},
                          {"max_position_embeddings", c.max_position_embeddings}};
      std::printf("%s\n", j.dump(2).c_str());
      return;
    }
    std::printf("model:       %s\n", options->model_path.c_str());
    std::printf("family:      %s%s\n", std::string(family_name(c.family)).c_str(),
                c.uses_mla() ? " (MLA attention, DeepSeekMoE)" : " (dense, grouped-query attention)");
    std::printf("layers:      %lld (%lld dense, %lld MoE)", static_cast<long long>(c.num_hidden_layers),
                static_cast<long long>(c.num_hidden_layers - moe_layers), static_cast<long long>(moe_layers));
    if (c.num_nextn_predict_layers > 0) std::printf(" + %lld MTP", static_cast<long long>(c.num_nextn_predict_layers));
    std::printf("\nhidden:      %lld, %lld attention heads, vocabulary %lld\n", static_cast<long long>(c.hidden_size),
                static_cast<long long>(c.num_attention_heads), static_cast<long long>(c.vocab_size));
    if (c.moe.n_routed_experts > 0)
      std::printf("experts:     %lld routed (top-%lld, %s, %s), %lld shared\n",
                  static_cast<long long>(c.moe.n_routed_experts), static_cast<long long>(c.moe.num_experts_per_tok),
                  topk_method_name(c.moe.topk_method).c_str(),
                  c.moe.scoring_func == ScoringFunc::kSigmoid ? "sigmoid" : "softmax",
                  static_cast<long long>(c.moe.n_shared_experts));
    std::printf("parameters:  %s total, %s active per token", human(static_cast<double>(params.total), "").c_str(),
                human(static_cast<double>(params.active), "").c_str());
    if (params.mtp > 0) std::printf(" (+ %s in the MTP module)", human(static_cast<double>(params.mtp), "").c_str());
    std::printf("\nkv cache:    %lld bytes per token (%s", static_cast<long long>(kv.bytes_per_token()),
                options->kv_type.c_str());
    if (c.uses_mla())
      std::printf(", %s MLA: %lld values per layer", options->mla.c_str(),
                  static_cast<long long>(kv.k_width + kv.v_width));
    std::printf(")\ncontext:     %lld tokens (max_position_embeddings)\n",
                static_cast<long long>(c.max_position_embeddings));
  });
}

}  // namespace dseek::cli
