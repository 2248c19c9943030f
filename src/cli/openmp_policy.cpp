#include "cli/openmp_policy.h"

#include <unistd.h>

#include <cstdlib>

namespace dimple::cli {

void ensure_passive_openmp_waiting(char** argv) {
    if (std::getenv("OMP_WAIT_POLICY") || std::getenv("GOMP_SPINCOUNT")) return;
    if (setenv("OMP_WAIT_POLICY", "passive", 1) != 0) return;
    execv("/proc/self/exe", argv);
    // Still here: the exec failed (no /proc?); OpenMP keeps its load-time default.
}

}  // namespace dimple::cli
