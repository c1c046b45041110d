// Elementwise maths (softplus, tanh, the sigmoid, Adam's update) that give the same bits on every
// x86-64 CPU and run many elements at once, whatever the C library's own functions give.
//
// tanh follows fdlibm's single-precision method operation by operation (below), so it gives the
// bits of the C library's tanhf where that is fdlibm's (glibc up to 2.40). softplus's value is
// computed in double precision from IEEE additions, multiplications and divisions
// only, in one written order: eᵗ by t = k·ln 2 + r, |r| ≤ ln 2 / 2, a degree-11 Taylor polynomial
// of eʳ and 2ᵏ put into the exponent bits; log(1 + e) by 2·atanh(e / (2 + e)). The double result
// is within about 1e-14 of the true value, so the float it rounds to is the correctly rounded one
// but for values within that distance of a rounding boundary. Contraction into fused
// multiply–adds is switched off for this file (the sigmoid's exponential writes out the ones it
// takes), so the scalar (SSE2) loops and the AVX2 and AVX-512 loops the compiler vectorises do the
// same operations and give the same bits; the instruction set only decides how many elements run
// at once.

#include "isa_kernel.h"

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

ALWAYS_INLINE uint32_t bits_of(float x) {
    uint32_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

ALWAYS_INLINE float float_of(uint32_t b) {
    float x;
    memcpy(&x, &b, sizeof x);
    return x;
}

/// eᵃ − 1 for a in (−2, 44), in single precision by fdlibm's method (the one glibc's expm1f
/// uses up to 2.40): a = k·ln 2 + r with ln 2 in two parts, e^r − 1 from a rational form in
/// r·r/2 with a degree-5 polynomial, and 2ᵏ put into the exponent bits. The operations and their
/// order are fdlibm's, so the float results are its results; only the cases tanh reaches are
/// here (k = 0, −1, −2, −3 for negative a, k = 3 … 64 for a ≥ 2), each computed and the right
/// one selected, so that the loop runs many elements at once. fdlibm's own branches for k = 0
/// and k = −1 (r = a; hi = a + ln2_hi, lo = −ln2_lo) are the general reduction's values at those
/// k, exactly: a − 0·ln2_hi is a and (a − 0) − 0 is 0, and a − (−1)·ln2_hi is a + ln2_hi.
ALWAYS_INLINE float expm1_for_tanh(float a) {
    const float ln2_hi = 0x1.62e3p-1f, ln2_lo = 0x1.2fefa2p-17f, inv_ln2 = 0x1.715476p0f;
    const float q1 = -0x1.111112p-5f, q2 = 0x1.a01a02p-10f, q3 = -0x1.4ce19ap-14f, q4 = 0x1.0cfca8p-18f,
                q5 = -0x1.afdb76p-23f;
    uint32_t ha = bits_of(a) & 0x7fffffff;
    int negative = a < 0;
    // The reduction: k = 0 up to ln 2 / 2, ±1 up to 3·ln 2 / 2, the nearest integer beyond.
    // (From ln 2 / 2 to 3·ln 2 / 2 only negative a arrive: a positive a is at least 2.)
    int k = ha <= 0x3eb17218 ? 0 : ha < 0x3f851592 ? -1 : (int)(inv_ln2 * a + (negative ? -0.5f : 0.5f));
    float kf = (float)k;
    float hi = a - kf * ln2_hi, lo = kf * ln2_lo;
    float r = hi - lo, c = (hi - r) - lo;
    float half_r = 0.5f * r, half_r2 = r * half_r;
    float r1 = 1 + half_r2 * (q1 + half_r2 * (q2 + half_r2 * (q3 + half_r2 * (q4 + half_r2 * q5))));
    float t = 3.0f - r1 * half_r;
    float e = half_r2 * ((r1 - t) / (6.0f - r * t));
    float for_zero = r - (r * e - half_r2);
    e = (r * (e - c) - c);
    e -= half_r2;
    float for_minus_one = 0.5f * (r - e) - 0.5f;
    // k ≤ −2 or k > 56: 1 − (e − r) scaled by 2ᵏ, less 1.
    float far = float_of(bits_of(1 - (e - r)) + ((uint32_t)k << 23)) - 1;
    // 2 ≤ k < 23: (1 − 2⁻ᵏ) − (e − r) scaled by 2ᵏ.
    int k_mid = k < 2 ? 2 : k > 22 ? 22 : k;
    float one_less = float_of(0x3f800000u - (0x1000000u >> k_mid));
    float middle = float_of(bits_of(one_less - (e - r)) + ((uint32_t)k << 23));
    // 23 ≤ k ≤ 56: (r − (e + 2⁻ᵏ) + 1) scaled by 2ᵏ.
    int k_high = k < 23 ? 23 : k > 56 ? 56 : k;
    float high = float_of(bits_of((r - (e + float_of((uint32_t)(0x7f - k_high) << 23))) + 1) + ((uint32_t)k << 23));
    float y = k <= -2 || k > 56 ? far : k < 23 ? middle : high;
    y = k == -1 ? for_minus_one : y;
    y = k == 0 ? for_zero : y;
    return ha < 0x33000000 ? a : y;
}

/// tanh(x) by fdlibm's method in single precision, the bits of glibc's tanhf up to 2.40 for every
/// float (checked over all 2³² of them, see KernelsTests): 1 − 2/(e²ˣ + 1) from expm1(2|x|) for
/// |x| ≥ 1, −expm1(−2|x|)/(expm1(−2|x|) + 2) below, x·(1 + x) below 2⁻⁵⁵ and ±1 from 22 on.
ALWAYS_INLINE float tanh_one(float x) {
    uint32_t ix = bits_of(x) & 0x7fffffff;
    // From 22 on (infinities and NaNs too) the result is selected below; 22 stands in, so that
    // every lane's conversion to an integer is defined.
    float ax = ix >= 0x41b00000 ? 22.0f : float_of(ix);
    int large = ix >= 0x3f800000;
    float t = expm1_for_tanh(large ? 2 * ax : -2 * ax);
    float z = large ? 1 - 2 / (t + 2) : -t / (t + 2);
    z = ix >= 0x41b00000 ? 1 : z;
    z = x < 0 ? -z : z;
    z = ix < 0x24000000 ? x * (1 + x) : z;
    return ix > 0x7f800000 ? x + x : z;
}

#define MAP_LOOP(one)                                               \
    for (ptrdiff_t i = 0; i < n; i++) y[i] = one(x[i]);

#define MAP_PARAMETERS const float *restrict x, float *restrict y, ptrdiff_t n

DEFINE_ISA_KERNEL(vector_softplus, MAP_PARAMETERS, MAP_LOOP(softplus_one), x, y, n)
DEFINE_ISA_KERNEL(vector_tanh, MAP_PARAMETERS, MAP_LOOP(tanh_one), x, y, n)

// MARK: Sigmoid

/// 2^(i/32) as the nearest double, less i·2⁴⁷ (i/32 taken out of its exponent bits), i = 0 … 31:
/// the table of the exponential below.
static const uint64_t exp_table[32] = {
    0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51, 0x3fef72b83c7d517b,
    0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1, 0x3fef06fe0a31b715, 0x3feef1a7373aa9cb,
    0x3feedea64c123422, 0x3feece086061892d, 0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429,
    0x3feea47eb03a5585, 0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
    0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d, 0x3feee89f995ad3ad,
    0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069, 0x3fef5818dcfba487, 0x3fef7c97337b9b5f,
    0x3fefa4afa2a490da, 0x3fefd0765b6e4540};

/// eᵃ for a ≤ 0 (NaN passes through) by the method of glibc's expf (2.27 on, in its build with
/// fused multiply–adds, which glibc runs on every CPU with AVX2): in double precision,
/// a·32/ln 2 = k + r with k the nearest integer, eᵃ = 2^(k/32)·2^(r/32), 2^(k/32) from the table
/// with k's whole part added to the exponent bits, 2^(r/32) from a cubic in r; below
/// about −103.97 the result is 0. The bits of that expf for every a ≤ 0 (checked over all of
/// them, see KernelsTests); the fused multiply–adds are written out, so every instruction set
/// computes the same.
ALWAYS_INLINE float exp_of_nonpositive(float a) {
    const double scale = 0x1.71547652b82fep0 * 32, shift = 0x1.8p52;
    const double c0 = 0x1.c6af84b912394p-5 / (32.0 * 32 * 32), c1 = 0x1.ebfce50fac4f3p-3 / (32.0 * 32),
                 c2 = 0x1.62e42ff0c52d6p-1 / 32;
    double x = a;
    double shifted = __builtin_fma(scale, x, shift);  // rounds to an integer k, kept in the low bits
    uint64_t k;
    memcpy(&k, &shifted, sizeof k);
    double r = __builtin_fma(scale, x, -(shifted - shift));
    uint64_t bits = exp_table[k % 32] + (k << 47);
    double s;
    memcpy(&s, &bits, sizeof s);
    double p = __builtin_fma(__builtin_fma(c0, r, c1), r * r, __builtin_fma(c2, r, 1));
    float y = (float)(p * s);
    y = a < -0x1.9fe368p6f ? 0 : y;
    return a != a ? a + a : y;
}

/// 1 / (1 + e⁻ˣ) for x ≥ 0, e / (1 + e) with e = eˣ below (NaN passes through).
ALWAYS_INLINE float sigmoid_one(float x) {
    float e = exp_of_nonpositive(x < 0 ? x : -x);
    return x >= 0 ? 1 / (1 + e) : e / (1 + e);
}

DEFINE_ISA_KERNEL(vector_sigmoid, MAP_PARAMETERS, MAP_LOOP(sigmoid_one), x, y, n)

// MARK: LeakyReLU and column sums

// x may be y (in place): each element is read before its own result is written, and by no other.
#define LEAKY_LOOP                                                                                 \
    _Pragma("clang loop vectorize(assume_safety)") for (ptrdiff_t i = 0; i < n; i++)              \
        y[i] = x[i] > 0 ? x[i] : slope * x[i];

#define LEAKY_PARAMETERS const float *x, float *y, ptrdiff_t n, float slope

DEFINE_ISA_KERNEL(vector_leaky_relu, LEAKY_PARAMETERS, LEAKY_LOOP, x, y, n, slope)

#define SCALED_BY_SIGN_LOOP                                                                        \
    for (ptrdiff_t i = 0; i < n; i++) y[i] = x[i] > 0 ? g[i] : slope * g[i];

#define SCALED_BY_SIGN_PARAMETERS                                                                  \
    const float *restrict g, const float *restrict x, float *restrict y, ptrdiff_t n, float slope

DEFINE_ISA_KERNEL(vector_scaled_by_sign, SCALED_BY_SIGN_PARAMETERS, SCALED_BY_SIGN_LOOP, g, x, y, n, slope)

// Columns c0..<c0 + WIDTH of a rows × columns matrix summed into sums, each column's chain
// 0 + v₀ + v₁ + … in row order, v = VALUE(i) for element i; the WIDTH chains side by side (in
// registers: a fixed width the compiler unrolls), then narrower widths for the columns left.
#define SUM_COLUMNS(WIDTH, VALUE)                                                                  \
    for (; c0 + (WIDTH) <= columns; c0 += (WIDTH)) {                                               \
        float acc[WIDTH] = {0};                                                                    \
        for (ptrdiff_t r = 0; r < rows; r++)                                                       \
            for (int j = 0; j < (WIDTH); j++) acc[j] += VALUE(r * columns + c0 + j);               \
        for (int j = 0; j < (WIDTH); j++) sums[c0 + j] = acc[j];                                   \
    }

#define COLUMN_CHAINS(VALUE)                                                                       \
    ptrdiff_t c0 = 0;                                                                              \
    SUM_COLUMNS(64, VALUE)                                                                         \
    SUM_COLUMNS(16, VALUE)                                                                         \
    SUM_COLUMNS(4, VALUE)                                                                          \
    SUM_COLUMNS(1, VALUE)

#define ELEMENT_OF_X(i) x[i]
#define COLUMN_SUMS_PARAMETERS const float *restrict x, ptrdiff_t rows, ptrdiff_t columns, float *restrict sums

DEFINE_ISA_KERNEL(column_sums, COLUMN_SUMS_PARAMETERS, COLUMN_CHAINS(ELEMENT_OF_X), x, rows, columns, sums)

// LeakyReLU's pullback and its column sums in one pass (a fused dense layer's local gradient and
// its bias gradient): y = x > 0 ? g : slope·g, as vector_scaled_by_sign, stored and summed as
// column_sums sums it, so the bits of the two kernels.
#define SCALED_BY_SIGN_STORED(i) (y[i] = x[i] > 0 ? g[i] : slope * g[i])
#define SIGN_SUMS_PARAMETERS                                                                       \
    const float *restrict g, const float *restrict x, float *restrict y, ptrdiff_t rows, ptrdiff_t columns, \
        float slope, float *restrict sums

DEFINE_ISA_KERNEL(scaled_by_sign_column_sums, SIGN_SUMS_PARAMETERS, COLUMN_CHAINS(SCALED_BY_SIGN_STORED), g, x, y, rows,
                  columns, slope, sums)

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

DEFINE_ISA_KERNEL(adam_update, ADAM_PARAMETERS, ADAM_LOOP, p, g, m, v, n, b1, b2, step_size, eps)

// RMSProp's update of one parameter, in the order NN/Optimizers.swift documents, with ε inside
// the square root (Keras) or outside it (PyTorch); IEEE operations only, so the same bits on every
// instruction set.
#define RMSPROP_LOOP                                                                               \
    if (inside) {                                                                                  \
        for (ptrdiff_t i = 0; i < n; i++) {                                                        \
            float vi = rho * v[i] + (1 - rho) * g[i] * g[i];                                       \
            v[i] = vi;                                                                             \
            p[i] -= lr * g[i] / __builtin_sqrtf(vi + eps);                                         \
        }                                                                                          \
    } else {                                                                                       \
        for (ptrdiff_t i = 0; i < n; i++) {                                                        \
            float vi = rho * v[i] + (1 - rho) * g[i] * g[i];                                       \
            v[i] = vi;                                                                             \
            p[i] -= lr * g[i] / (__builtin_sqrtf(vi) + eps);                                       \
        }                                                                                          \
    }

#define RMSPROP_PARAMETERS                                                                         \
    float *restrict p, const float *restrict g, float *restrict v, ptrdiff_t n, float rho, float lr, float eps, \
        int inside

DEFINE_ISA_KERNEL(rmsprop_update, RMSPROP_PARAMETERS, RMSPROP_LOOP, p, g, v, n, rho, lr, eps, inside)

// MARK: Dropout

// A dropout mask is never stored: element i's factor comes from 32-bit draw i of a SplitMix64
// stream (Kernels/Random.swift's RandomSource; two draws per 64 random bits, the low half first),
// and SplitMix64's 64-bit draw d of a stream at state s is mix(s + (d + 1)·γ), computed without
// the draws before it. So the forward pass and its pullback each draw the mask where they need
// it, in any order and on any thread, and the loops over draws vectorise (64-bit integer
// multiplies). Integer arithmetic and the float operations written below only: the same bits on
// every instruction set.

#define SPLITMIX_GAMMA 0x9E3779B97F4A7C15ull

ALWAYS_INLINE uint64_t splitmix_draw(uint64_t state, uint64_t draw) {
    uint64_t z = state + (draw + 1) * SPLITMIX_GAMMA;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/// The factor of a 32-bit draw: `scale` when it is below `threshold`, else 0 (that is,
/// 1·scale or 0·scale: scale is positive and finite).
ALWAYS_INLINE float dropout_factor(uint64_t draw, uint64_t threshold, float scale) {
    return draw < threshold ? scale : 0.0f;
}

/// The rectifier: v where positive, slope·v elsewhere (slope 1 gives v to the bit).
ALWAYS_INLINE float rectified(float v, float slope) { return v > 0 ? v : slope * v; }

/// Runs ELEMENT(i, factor) for the elements first..<end (first even) of a mask.
#define DROPOUT_LOOP(ELEMENT)                                                                      \
    ptrdiff_t pairs_end = end / 2;                                                                 \
    for (ptrdiff_t j = first / 2; j < pairs_end; j++) {                                            \
        uint64_t bits = splitmix_draw(state, (uint64_t)j);                                         \
        float f0 = dropout_factor(bits & 0xFFFFFFFFull, threshold, scale);                         \
        float f1 = dropout_factor(bits >> 32, threshold, scale);                                   \
        ELEMENT(2 * j, f0)                                                                         \
        ELEMENT(2 * j + 1, f1)                                                                     \
    }                                                                                              \
    if (end % 2 == 1 && end - 1 >= first) {                                                        \
        float f = dropout_factor(splitmix_draw(state, (uint64_t)(end / 2)) & 0xFFFFFFFFull, threshold, scale); \
        ELEMENT(end - 1, f)                                                                        \
    }

#define DROPOUT_COMMON ptrdiff_t first, ptrdiff_t end, uint64_t state, uint64_t threshold, float scale

#define MASK_ELEMENT(i, f) m[i] = f;
#define FORWARD_ELEMENT(i, f) y[i] = rectified(x[i], slope) * f;
#define BACKWARD_ELEMENT(i, f)                                                                     \
    {                                                                                              \
        float masked = g[i] * f;                                                                   \
        out[i] = sign[i] > 0 ? masked : slope * masked;                                            \
    }

#define DROPOUT_MASK_PARAMETERS float *restrict m, DROPOUT_COMMON
#define DROPOUT_FORWARD_PARAMETERS const float *restrict x, float *restrict y, float slope, DROPOUT_COMMON
#define DROPOUT_BACKWARD_PARAMETERS                                                                \
    const float *restrict g, const float *restrict sign, float *restrict out, float slope, DROPOUT_COMMON

DEFINE_ISA_KERNEL(dropout_mask, DROPOUT_MASK_PARAMETERS, DROPOUT_LOOP(MASK_ELEMENT), m, first, end, state, threshold, scale)
DEFINE_ISA_KERNEL(dropout_forward, DROPOUT_FORWARD_PARAMETERS, DROPOUT_LOOP(FORWARD_ELEMENT), x, y, slope, first, end, state,
                  threshold, scale)
DEFINE_ISA_KERNEL(dropout_backward, DROPOUT_BACKWARD_PARAMETERS, DROPOUT_LOOP(BACKWARD_ELEMENT), g, sign, out, slope, first,
                  end, state, threshold, scale)

// MARK: Channel blocks

// oneDNN's 16-channel blocked layout of an [N, C, P] tensor (C a multiple of 16): block
// b = n·C/16 + j holds channels 16j..<16j+16 of sample n as [P][16]. Block b's elements are
// elements b·16·P..<(b+1)·16·P of the plain tensor too, in another order: a block's plain order
// ([16][P]) is a transpose away.

/// dst[c·plane + p] = src[p·16 + c]: one block to its plain order (a transpose; no arithmetic).
static void block_to_plain(fixed_order_isa isa, const float *restrict src, float *restrict dst, ptrdiff_t plane) {
    if (isa != fixed_order_scalar) return transpose_floats(src, 16, plane, 16, dst, plane);
    for (ptrdiff_t p = 0; p < plane; p++)
        for (int c = 0; c < 16; c++) dst[c * plane + p] = src[p * 16 + c];
}

/// dst[p·16 + c] = src[c·plane + p]: one block from its plain order.
static void plain_to_block(fixed_order_isa isa, const float *restrict src, float *restrict dst, ptrdiff_t plane) {
    if (isa != fixed_order_scalar) return transpose_floats(src, plane, 16, plane, dst, 16);
    for (ptrdiff_t p = 0; p < plane; p++)
        for (int c = 0; c < 16; c++) dst[p * 16 + c] = src[c * plane + p];
}

void channel_blocks_to_plain(fixed_order_isa isa, const float *blocks, float *plain, ptrdiff_t plane, ptrdiff_t block0,
                             ptrdiff_t block1) {
    for (ptrdiff_t b = block0; b < block1; b++) block_to_plain(isa, blocks + b * 16 * plane, plain + b * 16 * plane, plane);
}

void channel_blocks_from_plain(fixed_order_isa isa, const float *plain, float *blocks, ptrdiff_t plane, ptrdiff_t block0,
                               ptrdiff_t block1) {
    for (ptrdiff_t b = block0; b < block1; b++) plain_to_block(isa, plain + b * 16 * plane, blocks + b * 16 * plane, plane);
}

// Dropout on blocks draws each element's factor from its plain index (element (c, p) of block b
// is plain element b·16·P + c·P + p): the same factors as on the plain tensor, computed in the
// blocks' own order, 16 channels side by side.
#define BLOCKS_LOOP(ELEMENT)                                                                       \
    for (ptrdiff_t b = block0; b < block1; b++) {                                                  \
        for (ptrdiff_t p = 0; p < plane; p++) {                                                    \
            ptrdiff_t at = (b * plane + p) * 16;                                                   \
            uint64_t plain = (uint64_t)(b * 16 * plane + p);                                       \
            for (int c = 0; c < 16; c++) {                                                         \
                uint64_t index = plain + (uint64_t)(c * plane);                                    \
                uint64_t bits = splitmix_draw(state, index >> 1);                                  \
                float f = dropout_factor(index & 1 ? bits >> 32 : bits & 0xFFFFFFFFull, threshold, scale); \
                ELEMENT(at + c, f)                                                                 \
            }                                                                                      \
        }                                                                                          \
    }

#define BLOCKS_COMMON ptrdiff_t plane, ptrdiff_t block0, ptrdiff_t block1, uint64_t state, uint64_t threshold, float scale

#define BLOCKS_FORWARD_PARAMETERS const float *restrict x, float *restrict y, float slope, BLOCKS_COMMON
#define BLOCKS_BACKWARD_PARAMETERS                                                                 \
    const float *restrict g, const float *restrict sign, float *restrict out, float slope, BLOCKS_COMMON

DEFINE_ISA_KERNEL(dropout_forward_blocks, BLOCKS_FORWARD_PARAMETERS, BLOCKS_LOOP(FORWARD_ELEMENT), x, y, slope, plane,
                  block0, block1, state, threshold, scale)
DEFINE_ISA_KERNEL(dropout_backward_blocks, BLOCKS_BACKWARD_PARAMETERS, BLOCKS_LOOP(BACKWARD_ELEMENT), g, sign, out,
                  slope, plane, block0, block1, state, threshold, scale)

// MARK: Uniform draws

// Element i of a uniform tensor is made from 64-bit draw i of the stream (splitmix_draw, as
// RandomSource.nextBits would give it): its top 53 bits as a double in [0, 1), then
// low + width·u in double and rounded once to float, the operations RandomSource.uniform and
// Tensor.uniform write (the integer is below 2⁵³, so its conversion is exact).
#define UNIFORM_LOOP                                                                               \
    for (ptrdiff_t i = 0; i < n; i++) {                                                            \
        double u = (double)(int64_t)(splitmix_draw(state, (uint64_t)i) >> 11) * 0x1.0p-53;         \
        out[i] = (float)(low + width * u);                                                         \
    }

#define UNIFORM_PARAMETERS float *restrict out, ptrdiff_t n, uint64_t state, double low, double width

DEFINE_ISA_KERNEL(uniform_fill, UNIFORM_PARAMETERS, UNIFORM_LOOP, out, n, state, low, width)
