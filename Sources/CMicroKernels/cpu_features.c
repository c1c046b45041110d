// What the CPU can do, read with CPUID and XGETBV (the operating system must save the wide
// registers too), instead of from a table of CPU models that goes stale.
#include "micro_kernels.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long enabled_register_state(void) {
    unsigned int eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

cpu_features cpu_features_read(void) {
    cpu_features features;
    memset(&features, 0, sizeof features);
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx)) return features;
    unsigned int highest = eax;
    __get_cpuid(1, &eax, &ebx, &ecx, &edx);
    unsigned int family = (eax >> 8) & 0xf, model = (eax >> 4) & 0xf;
    if (family == 0xf) family += (eax >> 20) & 0xff;
    if (family == 0x6 || family >= 0xf) model += ((eax >> 16) & 0xf) << 4;
    features.family = (int)family;
    features.model = (int)model;
    int fma = (ecx >> 12) & 1, osxsave = (ecx >> 27) & 1, avx = (ecx >> 28) & 1;
    unsigned long long state = osxsave ? enabled_register_state() : 0;
    int ymm_saved = (state & 0x6) == 0x6, zmm_saved = (state & 0xe6) == 0xe6;

    if (highest >= 7) {
        __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx);
        int avx2 = (ebx >> 5) & 1;
        int avx512f = (ebx >> 16) & 1, avx512dq = (ebx >> 17) & 1, avx512bw = (ebx >> 30) & 1,
            avx512vl = (ebx >> 31) & 1;
        features.avx2_fma = avx && avx2 && fma && ymm_saved;
        features.avx512 = features.avx2_fma && avx512f && avx512dq && avx512bw && avx512vl && zmm_saved;
    }

    if (__get_cpuid(0x80000000, &eax, &ebx, &ecx, &edx) && eax >= 0x80000004) {
        unsigned int words[12];
        for (unsigned int leaf = 0; leaf < 3; leaf++)
            __get_cpuid(0x80000002 + leaf, &words[4 * leaf], &words[4 * leaf + 1], &words[4 * leaf + 2],
                        &words[4 * leaf + 3]);
        memcpy(features.brand, words, 48);
        features.brand[48] = 0;
    }
    return features;
}

#else

cpu_features cpu_features_read(void) {
    cpu_features features;
    memset(&features, 0, sizeof features);
    return features;
}

#endif
