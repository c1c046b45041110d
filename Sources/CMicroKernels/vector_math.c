// Elementwise maths (softplus, Adam's update) that give the same bits on every x86-64 CPU and
// run many elements at once, whatever the C library's own functions give.
//
// Each value is computed in double precision from IEEE additions, multiplications and divisions
// only, in one written order: eᵗ by t = k·ln 2 + r, |r| ≤ ln 2 / 2, a degree-11 Taylor polynomial
// of eʳ and 2ᵏ put into the exponent bits; log(1 + e) by 2·atanh(e / (2 + e)). The double result
// is within about 1e-14 of the true value, so the float it rounds to is the correctly rounded one
// but for values within that distance of a rounding boundary. Contraction into fused
// multiply–adds is switched off for this file, so the scalar (SSE2) loops and the AVX2 and
// AVX-512 loops the compiler vectorises do the same operations and give the same bits; the
// instruction set only decides how many elements run at once.

#include "micro_kernels.h"

#include <stdint.h>
#include <string.h>

#pragma clang fp contract(off)

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/// c[0]·xⁿ⁻¹ + c[1]·xⁿ⁻² + … + c[n−1] by Horner's rule, the highest power first.
ALWAYS_INLINE double horner(double x, const double *c, int n) {
    double p = c[0];
    for (int i = 1; i < n; i++) p = p * x + c[i];
    return p;
}

/// eʸ for y in [-700, 700].
ALWAYS_INLINE double exp_of(double y) {
    const double shift = 0x1.8p52;  // adding it rounds to an integer, kept in the low bits
    double shifted = y * 0x1.71547652b82fep0 + shift;
    uint64_t bits;
    memcpy(&bits, &shifted, sizeof bits);
    double k = shifted - shift;
    double r = y - k * 0x1.62e42fefa39efp-1;
    static const double taylor[] = {1.0 / 39916800, 1.0 / 3628800, 1.0 / 362880, 1.0 / 40320, 1.0 / 5040,
                                    1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5, 1, 1};  // 1/11! … 1/0!
    double p = horner(r, taylor, sizeof taylor / sizeof *taylor);
    uint64_t pbits;
    memcpy(&pbits, &p, sizeof pbits);
    pbits += bits << 52;  // k added to the exponent
    memcpy(&p, &pbits, sizeof p);
    return p;
}

ALWAYS_INLINE double clamp(double y, double low, double high) {
    // Written so that NaN passes through (every comparison with NaN is false).
    y = y < low ? low : y;
    return y > high ? high : y;
}

/// log(1 + e) for e in [0, 1]: 2·atanh(s) with s = e / (2 + e) ≤ 1/3, to s²⁵.
ALWAYS_INLINE double log1p_of_fraction(double e) {
    double s = e / (2 + e), s2 = s * s;
    static const double odd[] = {1.0 / 25, 1.0 / 23, 1.0 / 21, 1.0 / 19, 1.0 / 17, 1.0 / 15, 1.0 / 13,
                                 1.0 / 11, 1.0 / 9, 1.0 / 7, 1.0 / 5, 1.0 / 3, 1};
    double p = horner(s2, odd, sizeof odd / sizeof *odd);
    return 2 * s * p;
}

ALWAYS_INLINE float softplus_one(float x) {
    double a = x < 0 ? -(double)x : (double)x;
    double positive = x > 0 ? (double)x : 0;
    float y = (float)(positive + log1p_of_fraction(exp_of(-clamp(a, 0, 110))));
    return x != x ? x : y;
}

#define MAP_LOOP(one)                                               \
    for (ptrdiff_t i = 0; i < n; i++) y[i] = one(x[i]);

#define DEFINE_MAP(name, one)                                                                      \
    static void name##_scalar(const float *restrict x, float *restrict y, ptrdiff_t n) {          \
        MAP_LOOP(one)                                                                              \
    }                                                                                              \
    __attribute__((target("avx2"))) static void name##_avx2(const float *restrict x,              \
                                                            float *restrict y, ptrdiff_t n) {    \
        MAP_LOOP(one)                                                                              \
    }                                                                                              \
    __attribute__((target("avx512f,avx512dq,avx512vl"))) static void name##_avx512(               \
        const float *restrict x, float *restrict y, ptrdiff_t n) {                                 \
        MAP_LOOP(one)                                                                              \
    }                                                                                              \
    void name(fixed_order_isa isa, const float *x, float *y, ptrdiff_t n) {                       \
        switch (isa) {                                                                             \
        case fixed_order_avx512: name##_avx512(x, y, n); break;                                    \
        case fixed_order_avx2: name##_avx2(x, y, n); break;                                        \
        default: name##_scalar(x, y, n); break;                                                    \
        }                                                                                          \
    }

DEFINE_MAP(vector_softplus, softplus_one)

// MARK: Optimizer updates

// Adam's update of one parameter, in exactly the order NN/Optimizers.swift documents; every
// operation is an IEEE one (square roots and divisions included), so each instruction set gives
// the same bits.
#define ADAM_LOOP                                                                                  \
    for (ptrdiff_t i = 0; i < n; i++) {                                                            \
        float mi = b1 * m[i] + (1 - b1) * g[i], vi = b2 * v[i] + (1 - b2) * g[i] * g[i];           \
        m[i] = mi;                                                                                 \
        v[i] = vi;                                                                                 \
        p[i] -= step_size * mi / (__builtin_sqrtf(vi) + eps);                                      \
    }

#define ADAM_PARAMETERS                                                                            \
    float *restrict p, const float *restrict g, float *restrict m, float *restrict v, ptrdiff_t n, \
        float b1, float b2, float step_size, float eps

static void adam_scalar(ADAM_PARAMETERS) { ADAM_LOOP }
__attribute__((target("avx2"))) static void adam_avx2(ADAM_PARAMETERS) { ADAM_LOOP }
__attribute__((target("avx512f"))) static void adam_avx512(ADAM_PARAMETERS) { ADAM_LOOP }

void adam_update(fixed_order_isa isa, ADAM_PARAMETERS) {
    switch (isa) {
    case fixed_order_avx512: adam_avx512(p, g, m, v, n, b1, b2, step_size, eps); break;
    case fixed_order_avx2: adam_avx2(p, g, m, v, n, b1, b2, step_size, eps); break;
    default: adam_scalar(p, g, m, v, n, b1, b2, step_size, eps); break;
    }
}
