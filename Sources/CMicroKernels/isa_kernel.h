#ifndef GAN_LAB_ISA_KERNEL_H
#define GAN_LAB_ISA_KERNEL_H

#include "micro_kernels.h"

/// Defines `void name(fixed_order_isa isa, PARAMETERS)`, which runs BODY compiled three times
/// (for x86-64's baseline, for AVX2 and for AVX-512), the one `isa` asks for; the trailing
/// arguments are the parameters' names, passed on. BODY's operations decide the bits and the
/// compiler only how many elements run at once, so a file defining kernels this way switches
/// contraction into fused multiply–adds off.
#define DEFINE_ISA_KERNEL(name, PARAMETERS, BODY, ...)                                             \
    static void name##_scalar(PARAMETERS) { BODY }                                                 \
    __attribute__((target("avx2,fma"))) static void name##_avx2(PARAMETERS) { BODY }                  \
    __attribute__((target("avx512f,avx512dq,avx512vl"))) static void name##_avx512(PARAMETERS) { BODY } \
    void name(fixed_order_isa isa, PARAMETERS) {                                                   \
        switch (isa) {                                                                             \
        case fixed_order_avx512: name##_avx512(__VA_ARGS__); break;                                \
        case fixed_order_avx2: name##_avx2(__VA_ARGS__); break;                                    \
        default: name##_scalar(__VA_ARGS__); break;                                                \
        }                                                                                          \
    }

#endif
