// dseek: run DeepSeek-family models. One binary, one subcommand per job.
#include <CLI/CLI.hpp>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"dseek: DeepSeek, self-hosted"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "help for every subcommand");
  int exit_code = 0;
  dseek::cli::register_info(app, exit_code);
  dseek::cli::register_logits(app, exit_code);
  dseek::cli::register_generate(app, exit_code);
  dseek::cli::register_chat(app, exit_code);
  dseek::cli::register_convert(app, exit_code);
  dseek::cli::register_template(app, exit_code);
  dseek::cli::register_tokenize(app, exit_code);
  dseek::cli::register_detokenize(app, exit_code);
  dseek::cli::register_bench(app, exit_code);
  dseek::cli::register_serve(app, exit_code);
  dseek::cli::register_train(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Usage errors exit with 2, after CLI11's message (or 0 for --help).
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  return exit_code;
}
