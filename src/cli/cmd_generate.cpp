// dseek generate MODEL --tokens IDS -n N --greedy --ids
#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"
#include "engine/greedy.h"

namespace dseek::cli {

void register_generate(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("generate", "continue a prompt");
  struct Options {
    ModelOptions model;
    std::string tokens;
    int64_t n = 32;
    bool greedy = true;
    bool ids = false;
  };
  auto o = std::make_shared<Options>();
  add_model_options(*cmd, o->model);
  cmd->add_option("--tokens", o->tokens, "prompt as comma-separated token ids")->required();
  cmd->add_option("-n", o->n, "number of tokens to generate")->check(CLI::Range(int64_t{0}, int64_t{1} << 24));
  cmd->add_flag("--greedy", o->greedy, "always take the most likely token (the only decoding so far)");
  cmd->add_flag("--ids", o->ids, "print the generated token ids, comma-separated, on one line");
  cmd->callback([o, &exit_code] {
    auto loaded = load(o->model);
    if (!loaded) {
      exit_code = report(loaded.error());
      return;
    }
    Model& model = *loaded->model;
    const ModelConfig& c = model.config();
    auto prompt = parse_token_list(o->tokens, c.vocab_size);
    if (!prompt) {
      exit_code = report(prompt.error());
      return;
    }
    const int64_t total = static_cast<int64_t>(prompt->size()) + o->n;
    if (total > c.max_position_embeddings) {
      exit_code = report(Error{"prompt (" + std::to_string(prompt->size()) + " tokens) + -n " + std::to_string(o->n) +
                               " exceeds the model's context of " + std::to_string(c.max_position_embeddings) +
                               " tokens"});
      return;
    }
    auto cache = model.new_cache(total);
    bool first = true;
    auto result = generate_greedy(model, *cache, prompt.value(), o->n, [&](int32_t id) {
      std::printf(first ? "%d" : ",%d", id);
      std::fflush(stdout);
      first = false;
    });
    std::printf("\n");
    if (!result) exit_code = report(result.error());
  });
}

}  // namespace dseek::cli
