// The instruction sets the hand-written kernels are compiled for, and the one a process runs.
//
// Why dispatch by hand: oneDNN chooses its own code for the matrix products at run time, but the
// rest of a step (attention, RMSNorm, softmax, SiLU and their exp, the int8 and bf16 conversions
// of activations and weights, the sampler's passes over the vocabulary) is plain C++ that the
// compiler vectorises for the CPU it targets.
// A native build (-DDIMPLE_NATIVE=ON, the default) compiles all of it for the build machine: one
// copy, no choice. A portable build (-DDIMPLE_NATIVE=OFF) compiles the program for x86-64-v3 (AVX2,
// FMA, F16C, BMI2) and the kernel files twice, for AVX2 and for AVX-512 (F, CD, BW, DQ, VL), each
// copy in its own namespace; every kernel call goes to the copy chosen once per process from CPUID
// (AVX-512 where the CPU and the OS have it), or to the one DIMPLE_CPU=avx2|avx512 names.
//
// A kernel file (listed under ISA_SOURCES in CMake) holds, after all of its #includes,
//     DIMPLE_ISA_BEGIN
//     namespace dimple::DIMPLE_ISA { ...the kernels... }
//     DIMPLE_ISA_END
// and the component's dispatch.cpp declares each copy (DIMPLE_ISA_KERNEL) and defines the public
// function as a call through DIMPLE_DISPATCH. The AVX-512 copy raises the target with a pragma
// only between BEGIN and END, so what it uses from headers (std::vector, std::sort, inline
// helpers it does not inline) is emitted for the baseline: compiled with -march=x86-64-v4, those
// shared (COMDAT) functions would carry AVX-512 code too, and the linker may keep that copy for
// every caller. The pragma does not define __AVX512F__ for the preprocessor (C++ is lexed ahead),
// hence DIMPLE_ISA_VECTOR_BYTES. A kernel calling another entry point of its own file with an
// argument of one of dimple's types qualifies the call (DIMPLE_ISA::f): lookup by argument type
// would find the dispatching dimple::f too, and the call would be ambiguous.
#pragma once

namespace dimple {

enum class Isa { native, avx2, avx512 };

// The kernels this process runs, chosen on the first call. Throws dimple::Error when DIMPLE_CPU
// names an unknown level, one the CPU cannot run, or is set at all in a native build.
Isa kernel_isa();
const char* isa_name(Isa isa);  // "native", "avx2", "avx512"
// "avx512 (portable build: the AVX-512 kernels, chosen at run time)" and the like.
const char* kernel_isa_description();

}  // namespace dimple

#if defined(DIMPLE_PORTABLE)
#define DIMPLE_DISPATCH(kernel) \
    (::dimple::kernel_isa() == ::dimple::Isa::avx512 ? avx512::kernel : avx2::kernel)
#define DIMPLE_ISA_KERNEL(kernel)      \
    namespace avx2 {                   \
    decltype(::dimple::kernel) kernel; \
    }                                  \
    namespace avx512 {                 \
    decltype(::dimple::kernel) kernel; \
    }
#else
#define DIMPLE_DISPATCH(kernel) native::kernel
#define DIMPLE_ISA_KERNEL(kernel)      \
    namespace native {                 \
    decltype(::dimple::kernel) kernel; \
    }
#endif

#if defined(DIMPLE_ISA_AVX512)
#define DIMPLE_ISA avx512
#define DIMPLE_ISA_VECTOR_BYTES 64
#define DIMPLE_ISA_BEGIN \
    _Pragma("GCC push_options") _Pragma("GCC target(\"avx512f,avx512cd,avx512bw,avx512dq,avx512vl\")")
#define DIMPLE_ISA_END _Pragma("GCC pop_options")
#elif defined(DIMPLE_ISA_AVX2)
#define DIMPLE_ISA avx2
#define DIMPLE_ISA_VECTOR_BYTES 32
#define DIMPLE_ISA_BEGIN
#define DIMPLE_ISA_END
#elif !defined(DIMPLE_PORTABLE)  // a native build: one copy, for the build machine's flags
#define DIMPLE_ISA native
#if defined(__AVX512F__)
#define DIMPLE_ISA_VECTOR_BYTES 64
#elif defined(__AVX__)
#define DIMPLE_ISA_VECTOR_BYTES 32
#else
#define DIMPLE_ISA_VECTOR_BYTES 16
#endif
#define DIMPLE_ISA_BEGIN
#define DIMPLE_ISA_END
#endif
