// Each subcommand registers itself on the application; exit_code receives
// its result (0 on success, 1 on an error it has reported).
#pragma once

#include <CLI/CLI.hpp>

namespace dseek::cli {

void register_info(CLI::App& app, int& exit_code);
void register_logits(CLI::App& app, int& exit_code);
void register_generate(CLI::App& app, int& exit_code);
void register_chat(CLI::App& app, int& exit_code);
void register_convert(CLI::App& app, int& exit_code);
void register_template(CLI::App& app, int& exit_code);
void register_tokenize(CLI::App& app, int& exit_code);
void register_detokenize(CLI::App& app, int& exit_code);
void register_bench(CLI::App& app, int& exit_code);
void register_serve(CLI::App& app, int& exit_code);
void register_train(CLI::App& app, int& exit_code);

}  // namespace dseek::cli
