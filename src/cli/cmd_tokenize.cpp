// dseek tokenize MODEL --text TEXT | --file F   -> ids, comma-separated
// dseek detokenize MODEL --tokens IDS           -> the text
// MODEL: a folder with tokenizer.json (+ tokenizer_config.json; no weights
// needed), a tokenizer.json file, or a GGUF file.
#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"
#include "tokenizer/load.h"

namespace dseek::cli {

namespace {

void write_all(const std::string& bytes) { std::fwrite(bytes.data(), 1, bytes.size(), stdout); }

}  // namespace

void register_tokenize(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("tokenize", "text -> token ids (comma-separated)");
  struct Options {
    std::string model, text, file;
    bool no_special = false, split_special = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("MODEL", o->model, "model folder with tokenizer.json (or the tokenizer.json file)")->required();
  auto* text = cmd->add_option("--text", o->text, "text to tokenize");
  auto* file = cmd->add_option("--file", o->file, "file whose bytes to tokenize");
  text->excludes(file);
  cmd->add_flag("--no-special", o->no_special, "do not add the special tokens the model adds (e.g. BOS)");
  cmd->add_flag("--split-special", o->split_special,
                "treat special-token text (e.g. <｜User｜>) in the input as plain text");
  cmd->callback([o, &exit_code, text, file] {
    if (text->count() == 0 && file->count() == 0) {
      exit_code = report(Error{"tokenize: give --text or --file"});
      return;
    }
    auto tokenizer = load_tokenizer(o->model);
    if (!tokenizer) {
      exit_code = report(tokenizer.error());
      return;
    }
    std::string input = o->text;
    if (file->count() > 0) {
      auto bytes = read_text_file(o->file, 1u << 30);
      if (!bytes) {
        exit_code = report(bytes.error());
        return;
      }
      input = std::move(bytes.value());
    }
    EncodeOptions options;
    options.add_special_tokens = !o->no_special;
    options.match_special_tokens = !o->split_special;
    auto ids = tokenizer->encode(input, options);
    if (!ids) {
      exit_code = report(ids.error());
      return;
    }
    std::string line;
    for (size_t i = 0; i < ids->size(); ++i) {
      if (i) line += ',';
      line += std::to_string((*ids)[i]);
    }
    line += '\n';
    write_all(line);
  });
}

void register_detokenize(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("detokenize", "token ids -> text");
  struct Options {
    std::string model, tokens;
    bool skip_special = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("MODEL", o->model, "model folder with tokenizer.json (or the tokenizer.json file)")->required();
  cmd->add_option("--tokens", o->tokens, "comma-separated token ids")->required();
  cmd->add_flag("--skip-special", o->skip_special, "leave out special tokens (BOS, EOS, ...)");
  cmd->callback([o, &exit_code] {
    auto tokenizer = load_tokenizer(o->model);
    if (!tokenizer) {
      exit_code = report(tokenizer.error());
      return;
    }
    auto ids = parse_token_list(o->tokens, tokenizer->vocab_size());
    if (!ids) {
      exit_code = report(ids.error());
      return;
    }
    DecodeOptions options;
    options.skip_special_tokens = o->skip_special;
    // The exact text, no newline added: output piped to a file round-trips.
    write_all(tokenizer->decode(ids.value(), options));
  });
}

}  // namespace dseek::cli
