// dseek generate MODEL (--prompt TEXT | --tokens IDS) [-n N] [sampling flags] [--ids]
//
// --prompt: the text is tokenized (with the model's BOS), the answer streams
// as text and ends at an end-of-sequence token (unless --ignore-eos), a stop
// string or after N tokens. --tokens: raw ids in, exactly N ids out (the
// interface tests and scripts compare with references: EOS is not special).
#include <cstdio>
#include <random>

#include "cli/commands.h"
#include "cli/common.h"
#include "engine/greedy.h"
#include "text/generation.h"
#include "tokenizer/load.h"

namespace dseek::cli {

void register_generate(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("generate", "continue a prompt (text or token ids)");
  struct Options {
    ModelOptions model;
    std::string prompt;
    std::string tokens;
    int64_t n = 32;
    bool greedy = false;
    bool ids = false;
    bool ignore_eos = false;
    bool truncate = false;
    bool no_bos = false;
    std::vector<std::string> stop;
    SamplingFlags sampling;
  };
  auto o = std::make_shared<Options>();
  add_model_options(*cmd, o->model);
  auto* prompt = cmd->add_option("--prompt,-p", o->prompt, "prompt text (needs the model's tokenizer)");
  auto* tokens = cmd->add_option("--tokens", o->tokens, "prompt as comma-separated token ids");
  prompt->excludes(tokens);
  cmd->add_option("-n", o->n, "number of tokens to generate (at most)")->check(CLI::Range(int64_t{0}, int64_t{1} << 24));
  cmd->add_flag("--greedy", o->greedy, "always take the most likely token (same as --temp 0)");
  cmd->add_flag("--ids", o->ids, "print the generated token ids, comma-separated, on one line");
  cmd->add_flag("--ignore-eos", o->ignore_eos, "with --prompt: do not stop at end-of-sequence tokens");
  cmd->add_flag("--truncate", o->truncate, "keep the end of a prompt that does not fit the context, instead of failing");
  cmd->add_flag("--no-bos", o->no_bos, "with --prompt: do not add the model's beginning-of-sequence token");
  cmd->add_option("--stop", o->stop, "stop before this text (repeatable)");
  add_sampling_options(*cmd, o->sampling);
  cmd->callback([o, &exit_code] {
    if (o->prompt.empty() && o->tokens.empty()) {
      exit_code = report(Error{"give the prompt as --prompt TEXT or --tokens IDS"});
      return;
    }
    auto loaded = load(o->model);
    if (!loaded) {
      exit_code = report(loaded.error());
      return;
    }
    Model& model = *loaded->model;
    const ModelConfig& c = model.config();
    SamplingParams sampling = o->sampling.params();
    if (o->greedy) sampling.temperature = 0;
    const int64_t context = c.max_position_embeddings;

    if (!o->tokens.empty()) {
      auto prompt = parse_token_list(o->tokens, c.vocab_size);
      if (!prompt) {
        exit_code = report(prompt.error());
        return;
      }
      const int64_t total = static_cast<int64_t>(prompt->size()) + o->n;
      if (total > context) {
        exit_code = report(Error{"prompt (" + std::to_string(prompt->size()) + " tokens) + -n " + std::to_string(o->n) +
                                 " exceeds the model's context of " + std::to_string(context) + " tokens"});
        return;
      }
      auto cache = model.new_cache(total);
      bool first = true;
      Sampler sampler(sampling);
      std::vector<int32_t> output;
      std::vector<float> logits(static_cast<size_t>(c.vocab_size));
      SequenceInput input{cache.get(), prompt.value(), false, logits.data()};
      Status s = o->n > 0 ? model.forward(std::span<SequenceInput>(&input, 1)) : ok_status();
      for (int64_t i = 0; s && i < o->n; ++i) {
        output.push_back(sampler.sample(logits, prompt.value(), output));
        std::printf(first ? "%d" : ",%d", output.back());
        std::fflush(stdout);
        first = false;
        if (i + 1 == o->n) break;
        SequenceInput step{cache.get(), std::span<const int32_t>(&output.back(), 1), false, logits.data()};
        s = model.forward(std::span<SequenceInput>(&step, 1));
      }
      std::printf("\n");
      if (!s) exit_code = report(s.error());
      return;
    }

    auto tokenizer = load_tokenizer(o->model.model_path);
    if (!tokenizer) {
      exit_code = report(tokenizer.error());
      return;
    }
    EncodeOptions encode;
    encode.add_special_tokens = !o->no_bos;
    auto ids = tokenizer->encode(o->prompt, encode);
    if (!ids) {
      exit_code = report(ids.error());
      return;
    }
    std::vector<int32_t> prompt_ids = std::move(ids.value());
    const int64_t room = context - o->n;
    if (static_cast<int64_t>(prompt_ids.size()) > room) {
      if (!o->truncate || room < 1) {
        exit_code = report(Error{"the prompt is " + std::to_string(prompt_ids.size()) + " tokens and -n is " +
                                 std::to_string(o->n) + ": together more than the context of " +
                                 std::to_string(context) + " tokens (--truncate keeps the end of the prompt)"});
        return;
      }
      prompt_ids.erase(prompt_ids.begin(), prompt_ids.end() - room);
    }
    TextGenerationOptions options;
    options.sampling = sampling;
    options.max_new_tokens = o->n;
    options.stop_strings = o->stop;
    if (!o->ignore_eos) {
      options.stop_tokens.assign(c.eos_token_ids.begin(), c.eos_token_ids.end());
      if (tokenizer->eos_id() >= 0) options.stop_tokens.push_back(tokenizer->eos_id());
    }
    TextGenerator generator(model, tokenizer.value(), context);
    TextCallbacks callbacks;
    bool first = true;
    if (o->ids) {
      callbacks.on_token = [&](int32_t id) {
        std::printf(first ? "%d" : ",%d", id);
        std::fflush(stdout);
        first = false;
      };
    } else {
      callbacks.on_content = [](std::string_view text) {
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
      };
    }
    auto result = generator.generate(prompt_ids, options, callbacks);
    std::printf("\n");
    if (!result) {
      exit_code = report(result.error());
      return;
    }
  });
}

}  // namespace dseek::cli
