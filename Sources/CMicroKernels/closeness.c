// Minibatch discrimination's closeness sums (NN/MinibatchDiscrimination.swift), many samples at
// once: the rows are transposed first, so that sample i is the vectors' lane and each kernel's
// distance, exponential and sum runs down the batch. Every element gets the operations the
// one-pair-at-a-time loops gave it, in the same order (the L1 distance over the kernel's
// coordinates in turn, the C library's expf, the sums over partners in increasing order), so the
// same bits on every instruction set; contraction into fused multiply–adds is off.

#include "isa_kernel.h"

#include <math.h>
#include <string.h>

#pragma clang fp contract(off)

/// dst[c·rows + r] = src[r·columns + c]: the rows as columns (the product kernels' transpose where
/// the CPU has AVX; it moves numbers only).
static void rows_as_columns(fixed_order_isa isa, const float *src, ptrdiff_t rows, ptrdiff_t columns, float *dst) {
    if (isa != fixed_order_scalar) return transpose_floats(src, columns, rows, columns, dst, rows);
    for (ptrdiff_t r = 0; r < rows; r++)
        for (ptrdiff_t c = 0; c < columns; c++) dst[c * rows + r] = src[r * columns + c];
}

// The distances of partner j to samples j..n−1 of kernel k into d (d[i] = −‖M_i − M_j‖₁).
#define CLOSENESS_DISTANCES_LOOP                                                                   \
    for (ptrdiff_t i = j; i < n; i++) {                                                            \
        float distance = 0;                                                                        \
        for (ptrdiff_t c = 0; c < size; c++) distance += fabsf(t[c * n + i] - t[c * n + j]);       \
        d[i] = -distance;                                                                          \
    }
#define CLOSENESS_DISTANCES_PARAMETERS const float *restrict t, ptrdiff_t n, ptrdiff_t size, ptrdiff_t j, float *restrict d
DEFINE_ISA_KERNEL(closeness_distances, CLOSENESS_DISTANCES_PARAMETERS, CLOSENESS_DISTANCES_LOOP, t, n, size, j, d)

// sums[i] += e[i] for i < n.
#define CLOSENESS_ADD_LOOP for (ptrdiff_t i = 0; i < n; i++) sums[i] += e[i];
#define CLOSENESS_ADD_PARAMETERS float *restrict sums, const float *restrict e, ptrdiff_t n
DEFINE_ISA_KERNEL(closeness_add, CLOSENESS_ADD_PARAMETERS, CLOSENESS_ADD_LOOP, sums, e, n)

// dt[c·n + i] −= sign(t[c·n + i] − t[c·n + j])·(g[i] + g[j])·e[i] for every sample i and coordinate
// c of one kernel, partner j (the term is 0 where the difference is, for i = j too).
#define CLOSENESS_PULLBACK_LOOP                                                                    \
    for (ptrdiff_t c = 0; c < size; c++) {                                                         \
        for (ptrdiff_t i = 0; i < n; i++) {                                                        \
            float weight = (g[i] + g[j]) * e[i], difference = t[c * n + i] - t[c * n + j];         \
            dt[c * n + i] -= difference > 0 ? weight : (difference < 0 ? -weight : 0);             \
        }                                                                                          \
    }
#define CLOSENESS_PULLBACK_PARAMETERS                                                              \
    const float *restrict t, const float *restrict g, const float *restrict e, ptrdiff_t n, ptrdiff_t size, \
        ptrdiff_t j, float *restrict dt
DEFINE_ISA_KERNEL(closeness_pullback, CLOSENESS_PULLBACK_PARAMETERS, CLOSENESS_PULLBACK_LOOP, t, g, e, n, size, j, dt)

void closeness_sums(fixed_order_isa isa, const float *x, ptrdiff_t n, ptrdiff_t kernels, ptrdiff_t size,
                    float *exponentials, float *sums, float *scratch) {
    ptrdiff_t width = kernels * size;
    float *t = scratch, *d = scratch + width * n, *column = d + n;
    rows_as_columns(isa, x, n, width, t);
    for (ptrdiff_t k = 0; k < kernels; k++) {
        float *e = exponentials + k * n * n;  // e[j·n + i], symmetric
        for (ptrdiff_t j = 0; j < n; j++) {
            closeness_distances(isa, t + k * size * n, n, size, j, d);
            for (ptrdiff_t i = j; i < n; i++) e[j * n + i] = e[i * n + j] = expf(d[i]);
        }
        memset(column, 0, (size_t)n * sizeof(float));
        for (ptrdiff_t j = 0; j < n; j++) closeness_add(isa, column, e + j * n, n);  // partners in order
        for (ptrdiff_t i = 0; i < n; i++) sums[i * kernels + k] = column[i];
    }
}

void closeness_sums_pullback(fixed_order_isa isa, const float *x, const float *upstream, const float *exponentials,
                             ptrdiff_t n, ptrdiff_t kernels, ptrdiff_t size, float *gradient, float *scratch) {
    ptrdiff_t width = kernels * size;
    float *t = scratch, *dt = scratch + width * n, *g = dt + width * n;
    rows_as_columns(isa, x, n, width, t);
    memset(dt, 0, (size_t)(width * n) * sizeof(float));
    for (ptrdiff_t k = 0; k < kernels; k++) {
        for (ptrdiff_t i = 0; i < n; i++) g[i] = upstream[i * kernels + k];
        for (ptrdiff_t j = 0; j < n; j++)  // partners in order; j = i adds nothing
            closeness_pullback(isa, t + k * size * n, g, exponentials + k * n * n + j * n, n, size, j, dt + k * size * n);
    }
    rows_as_columns(isa, dt, width, n, gradient);
}
