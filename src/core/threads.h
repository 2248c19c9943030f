// The engine's thread count: OpenMP loops and oneDNN both follow it. Settable because oneDNN's
// OpenMP threads degrade badly when they oversubscribe a busy machine.
#pragma once

namespace dimple {

void set_num_threads(int n);  // n <= 0: all hardware threads
int num_threads();

}  // namespace dimple
