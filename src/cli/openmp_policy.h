// OpenMP's default waiting (threads spin for a while after each parallel region) starves other
// processes, and our own threads, on a machine shared with other work: runs took 2-6x longer under
// load. libgomp reads OMP_WAIT_POLICY once, when the library loads, before main(); so to make
// passive waiting the default the binary re-executes itself with it set. A user's own
// OMP_WAIT_POLICY or GOMP_SPINCOUNT is left alone.
#pragma once

namespace dimple::cli {

// Call first thing in main(). Returns only when the environment already says how to wait (or the
// re-exec failed, in which case the run goes on with the library's default).
void ensure_passive_openmp_waiting(char** argv);

}  // namespace dimple::cli
