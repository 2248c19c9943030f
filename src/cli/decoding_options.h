// The decoding flags `dimple run` and `dimple eval` share: one flag per option of DecodingOptions
// (engine/decoding_options.h), which holds the defaults and makes GenerateOptions of them.
#pragma once

#include "cli/command_line.h"
#include "engine/decoding_options.h"

namespace dimple::cli {

void add_decoding_options(Command& cmd, DecodingOptions& o);

}  // namespace dimple::cli
