// dimple: run Dimple / Dream discrete-diffusion language models.
#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/openmp_policy.h"

int main(int argc, char** argv) {
    using namespace dimple::cli;
    ensure_passive_openmp_waiting(argv);
    return run_command_line(argc, argv, "dimple.cpp: discrete-diffusion multimodal language models (Dimple, Dream)",
                            "dimple 0.1.0",
                            {add_info_command, add_run_command, add_eval_command, add_forward_command,
                             add_tokenize_command, add_serve_command, add_quantize_command});
}
