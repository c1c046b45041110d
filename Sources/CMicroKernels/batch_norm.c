// The loops of batch normalisation over an [N, C, P] view (P = 1 for dense activations), for
// the channels c0..<c1, in the orders Kernels/Normalization.swift documents: every sum over a
// plane is one chain of float additions in increasing p, and every sum over the batch one chain
// of double additions in increasing n. The instruction set only decides how many elements run
// at once (dense rows: channels side by side in vectors; planes: several chains interleaved), so
// every `isa` gives the same bits. Contraction into fused multiply–adds is off.

#include "isa_kernel.h"

#pragma clang fp contract(off)

/// Independent plane chains run side by side: enough to keep both adders of a core busy while
/// each chain waits for its last addition.
enum { chains = 8 };

/// The value a sum takes of element v of channel c: v, or (v − center[c])² when centred.
#define TERM(v, c) (center ? ((v) - center[c]) * ((v) - center[c]) : (v))

#define SUMS_LOOP                                                                                  \
    for (ptrdiff_t c = c0; c < c1; c++) sums[c] = 0;                                              \
    for (ptrdiff_t n = 0; n < batch; n++) {                                                        \
        const float *row = x + n * channels * plane;                                               \
        if (plane == 1) {                                                                          \
            for (ptrdiff_t c = c0; c < c1; c++) sums[c] += (double)TERM(row[c], c);                \
            continue;                                                                              \
        }                                                                                          \
        ptrdiff_t c = c0;                                                                          \
        for (; c + chains <= c1; c += chains) {                                                    \
            float acc[chains] = {0};                                                               \
            const float *base = row + c * plane;                                                   \
            for (ptrdiff_t p = 0; p < plane; p++)                                                  \
                for (int j = 0; j < chains; j++) acc[j] += TERM(base[j * plane + p], c + j);       \
            for (int j = 0; j < chains; j++) sums[c + j] += (double)acc[j];                        \
        }                                                                                          \
        for (; c < c1; c++) {                                                                      \
            float acc = 0;                                                                         \
            const float *base = row + c * plane;                                                   \
            for (ptrdiff_t p = 0; p < plane; p++) acc += TERM(base[p], c);                         \
            sums[c] += (double)acc;                                                                \
        }                                                                                          \
    }

#define SCALE_SUMS_LOOP                                                                            \
    for (ptrdiff_t c = c0; c < c1; c++) sums[c] = 0;                                              \
    for (ptrdiff_t n = 0; n < batch; n++) {                                                        \
        const float *gn = g + n * channels * plane, *xn = x + n * channels * plane;                \
        if (plane == 1) {                                                                          \
            for (ptrdiff_t c = c0; c < c1; c++) sums[c] += (double)((0.0f + gn[c] * (xn[c] - mean[c])) * inverse[c]); \
            continue;                                                                              \
        }                                                                                          \
        ptrdiff_t c = c0;                                                                          \
        for (; c + chains <= c1; c += chains) {                                                    \
            float acc[chains] = {0};                                                               \
            const float *gb = gn + c * plane, *xb = xn + c * plane;                                \
            for (ptrdiff_t p = 0; p < plane; p++)                                                  \
                for (int j = 0; j < chains; j++) acc[j] += gb[j * plane + p] * (xb[j * plane + p] - mean[c + j]); \
            for (int j = 0; j < chains; j++) sums[c + j] += (double)(acc[j] * inverse[c + j]);     \
        }                                                                                          \
        for (; c < c1; c++) {                                                                      \
            float acc = 0;                                                                         \
            const float *gb = gn + c * plane, *xb = xn + c * plane;                                \
            for (ptrdiff_t p = 0; p < plane; p++) acc += gb[p] * (xb[p] - mean[c]);               \
            sums[c] += (double)(acc * inverse[c]);                                                 \
        }                                                                                          \
    }

#define AFFINE_LOOP                                                                                \
    for (ptrdiff_t n = 0; n < batch; n++) {                                                        \
        const float *xn = x + n * channels * plane;                                                \
        float *on = o + n * channels * plane;                                                      \
        if (plane == 1) {                                                                          \
            for (ptrdiff_t c = c0; c < c1; c++) on[c] = xn[c] * a[c] + b[c];                       \
            continue;                                                                              \
        }                                                                                          \
        for (ptrdiff_t c = c0; c < c1; c++) {                                                      \
            const float *xc = xn + c * plane;                                                      \
            float *oc = on + c * plane, ac = a[c], bc = b[c];                                      \
            for (ptrdiff_t p = 0; p < plane; p++) oc[p] = xc[p] * ac + bc;                         \
        }                                                                                          \
    }

#define BACKWARD_LOOP                                                                              \
    for (ptrdiff_t n = 0; n < batch; n++) {                                                        \
        const float *gn = g + n * channels * plane, *xn = x + n * channels * plane;                \
        float *on = o + n * channels * plane;                                                      \
        if (plane == 1) {                                                                          \
            for (ptrdiff_t c = c0; c < c1; c++) on[c] = gn[c] * a[c] + xn[c] * b[c] + d[c];        \
            continue;                                                                              \
        }                                                                                          \
        for (ptrdiff_t c = c0; c < c1; c++) {                                                      \
            const float *gc = gn + c * plane, *xc = xn + c * plane;                                \
            float *oc = on + c * plane, ac = a[c], bc = b[c], dc = d[c];                           \
            for (ptrdiff_t p = 0; p < plane; p++) oc[p] = gc[p] * ac + xc[p] * bc + dc;            \
        }                                                                                          \
    }

#define VIEW ptrdiff_t batch, ptrdiff_t channels, ptrdiff_t plane, ptrdiff_t c0, ptrdiff_t c1
#define SUMS_PARAMETERS const float *restrict x, VIEW, const float *restrict center, double *restrict sums
#define SCALE_SUMS_PARAMETERS                                                                      \
    const float *restrict g, const float *restrict x, VIEW, const float *restrict mean, const float *restrict inverse, \
        double *restrict sums
#define AFFINE_PARAMETERS                                                                          \
    const float *restrict x, float *restrict o, VIEW, const float *restrict a, const float *restrict b
#define BACKWARD_PARAMETERS                                                                        \
    const float *restrict g, const float *restrict x, float *restrict o, VIEW, const float *restrict a, \
        const float *restrict b, const float *restrict d

DEFINE_ISA_KERNEL(batch_norm_sums, SUMS_PARAMETERS, SUMS_LOOP, x, batch, channels, plane, c0, c1, center, sums)
DEFINE_ISA_KERNEL(batch_norm_scale_sums, SCALE_SUMS_PARAMETERS, SCALE_SUMS_LOOP, g, x, batch, channels, plane, c0, c1, mean,
                  inverse, sums)
DEFINE_ISA_KERNEL(batch_norm_affine, AFFINE_PARAMETERS, AFFINE_LOOP, x, o, batch, channels, plane, c0, c1, a, b)
DEFINE_ISA_KERNEL(batch_norm_backward, BACKWARD_PARAMETERS, BACKWARD_LOOP, g, x, o, batch, channels, plane, c0, c1, a, b, d)
