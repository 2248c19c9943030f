// The `dimple` subcommands. Each add_*_command adds its subcommand to the program's command line
// with its options and what runs it; errors surface as dimple::Error and become exit code 2.
#pragma once

#include "cli/command_line.h"

namespace dimple::cli {

void add_info_command(Command& program);
void add_run_command(Command& program);
void add_eval_command(Command& program);
void add_forward_command(Command& program);
void add_tokenize_command(Command& program);
void add_serve_command(Command& program);
void add_quantize_command(Command& program);

}  // namespace dimple::cli
