// dimple: run Dimple / Dream discrete-diffusion language models.
#include <cstdio>
#include <exception>
#include <new>
#include <string>

#include "cli/commands.h"
#include "cli/openmp_policy.h"
#include "core/error.h"
#include "core/isa.h"

int main(int argc, char** argv) {
    dimple::cli::ensure_passive_openmp_waiting(argv);
    CLI::App app{"dimple.cpp: discrete-diffusion multimodal language models (Dimple, Dream)"};
    app.require_subcommand(1);
    app.set_version_flag("--version", [] { return std::string("dimple 0.1.0\nkernels ") + dimple::kernel_isa_description(); });
    dimple::cli::add_info_command(app);
    dimple::cli::add_run_command(app);
    dimple::cli::add_eval_command(app);
    dimple::cli::add_forward_command(app);
    dimple::cli::add_tokenize_command(app);
    dimple::cli::add_serve_command(app);
    dimple::cli::add_quantize_command(app);
    try {
        dimple::kernel_isa();  // a bad DIMPLE_CPU is reported here, before any work
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    } catch (const dimple::Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 2;
    } catch (const std::bad_alloc&) {
        // Whatever was being allocated: the model's weights, a prompt's activations, a cache.
        std::fprintf(stderr, "error: out of memory (an allocation failed). A smaller compute mode "
                             "(--compute int8), a shorter prompt or answer, or freeing memory helps.\n");
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "internal error: %s\n", e.what());
        return 1;
    }
    return 0;
}
