#include "core/isa.h"

#include <cstdlib>
#include <string>

#include "core/error.h"

namespace dimple {

namespace {

Isa choose_isa() {
    const char* env = std::getenv("DIMPLE_CPU");
    const std::string want = env ? env : "";
#if defined(DIMPLE_PORTABLE)
    // libgcc's answer counts a feature only when the OS also saves its registers (XCR0).
    __builtin_cpu_init();
    const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
                        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
                        __builtin_cpu_supports("avx512vl");
    if (want.empty()) return avx512 ? Isa::avx512 : Isa::avx2;
    if (want == "avx2") return Isa::avx2;
    if (want == "avx512") {
        check(avx512, "DIMPLE_CPU=avx512: this CPU lacks AVX-512 (F, CD, BW, DQ and VL are needed)");
        return Isa::avx512;
    }
    fail("DIMPLE_CPU=", want, ": expected avx2 or avx512");
#else
    check(want.empty(), "DIMPLE_CPU=", want, ": this build has one set of kernels, compiled for the build "
          "machine's CPU; choosing them at run time needs a portable build (cmake -DDIMPLE_NATIVE=OFF)");
    return Isa::native;
#endif
}

}  // namespace

Isa kernel_isa() {
    static const Isa isa = choose_isa();  // a throw leaves it unset: the next call throws again
    return isa;
}

const char* isa_name(Isa isa) {
    switch (isa) {
        case Isa::native: return "native";
        case Isa::avx2: return "avx2";
        case Isa::avx512: return "avx512";
    }
    return "?";
}

const char* kernel_isa_description() {
    switch (kernel_isa()) {
        case Isa::native: return "native (built for the build machine's CPU, -march=native)";
        case Isa::avx2: return "avx2 (portable build: the x86-64-v3 baseline kernels)";
        case Isa::avx512: return "avx512 (portable build: the AVX-512 kernels, chosen at run time)";
    }
    return "?";
}

}  // namespace dimple
