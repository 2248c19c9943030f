// The `dimple` subcommands. Each add_*_command registers its options on the app and sets the
// callback that runs it; errors surface as dimple::Error and become exit code 2 in main.
#pragma once

#include <CLI/CLI.hpp>

namespace dimple::cli {

void add_info_command(CLI::App& app);
void add_run_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_forward_command(CLI::App& app);
void add_tokenize_command(CLI::App& app);
void add_serve_command(CLI::App& app);
void add_quantize_command(CLI::App& app);

}  // namespace dimple::cli
