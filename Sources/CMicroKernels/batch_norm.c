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

// The same loops over a tensor in oneDNN's 16-channel blocked layout (`ChannelBlocks`: block
// n·C/16 + j holds channels 16j..<16j+16 of sample n as [P][16]), for channels c0..<c1, both
// multiples of 16. Each channel's plane sum is still one chain of float additions in increasing
// p and its batch sum one chain of double additions in increasing n, so the same bits as the
// loops above on the plain tensor; the 16 channels of a block run side by side.

#define BLOCK(base, n, j) ((base) + ((n) * (channels / 16) + (j)) * plane * 16)

#define SUMS_BLOCKS_LOOP                                                                           \
    for (ptrdiff_t c = c0; c < c1; c++) sums[c] = 0;                                              \
    for (ptrdiff_t n = 0; n < batch; n++)                                                          \
        for (ptrdiff_t j = c0 / 16; j < c1 / 16; j++) {                                            \
            const float *block = BLOCK(x, n, j);                                                   \
            float acc[16] = {0};                                                                   \
            for (ptrdiff_t p = 0; p < plane; p++)                                                  \
                for (int k = 0; k < 16; k++) acc[k] += TERM(block[p * 16 + k], j * 16 + k);         \
            for (int k = 0; k < 16; k++) sums[j * 16 + k] += (double)acc[k];                       \
        }

#define SCALE_SUMS_BLOCKS_LOOP                                                                     \
    for (ptrdiff_t c = c0; c < c1; c++) sums[c] = 0;                                              \
    for (ptrdiff_t n = 0; n < batch; n++)                                                          \
        for (ptrdiff_t j = c0 / 16; j < c1 / 16; j++) {                                            \
            const float *gb = BLOCK(g, n, j), *xb = BLOCK(x, n, j);                                \
            const float *mb = mean + j * 16;                                                       \
            float acc[16] = {0};                                                                   \
            for (ptrdiff_t p = 0; p < plane; p++)                                                  \
                for (int k = 0; k < 16; k++) acc[k] += gb[p * 16 + k] * (xb[p * 16 + k] - mb[k]);  \
            for (int k = 0; k < 16; k++) sums[j * 16 + k] += (double)(acc[k] * inverse[j * 16 + k]); \
        }

// A block's 16 channels as one vector of 16 floats (one AVX-512 register, two AVX2 ones, four
// SSE ones; loads and stores need no alignment): the elementwise loops run one position p at a
// time, each operation the one the plain loops do on every element.
typedef float channels16 __attribute__((vector_size(64), aligned(4)));
#define AT(pointer, index) (*(channels16 *)((pointer) + (index)))

#define AFFINE_BLOCKS_LOOP                                                                         \
    for (ptrdiff_t n = 0; n < batch; n++)                                                          \
        for (ptrdiff_t j = c0 / 16; j < c1 / 16; j++) {                                            \
            channels16 av = AT(a, j * 16), bv = AT(b, j * 16);                                     \
            const float *xb = BLOCK(x, n, j);                                                      \
            float *ob = BLOCK(o, n, j);                                                            \
            for (ptrdiff_t p = 0; p < plane; p++) AT(ob, p * 16) = AT(xb, p * 16) * av + bv;       \
        }

#define BACKWARD_BLOCKS_LOOP                                                                       \
    for (ptrdiff_t n = 0; n < batch; n++)                                                          \
        for (ptrdiff_t j = c0 / 16; j < c1 / 16; j++) {                                            \
            channels16 av = AT(a, j * 16), bv = AT(b, j * 16), dv = AT(d, j * 16);                 \
            const float *gb = BLOCK(g, n, j), *xb = BLOCK(x, n, j);                                \
            float *ob = BLOCK(o, n, j);                                                            \
            for (ptrdiff_t p = 0; p < plane; p++) AT(ob, p * 16) = AT(gb, p * 16) * av + AT(xb, p * 16) * bv + dv; \
        }

DEFINE_ISA_KERNEL(batch_norm_sums_blocks, SUMS_PARAMETERS, SUMS_BLOCKS_LOOP, x, batch, channels, plane, c0, c1, center, sums)
DEFINE_ISA_KERNEL(batch_norm_scale_sums_blocks, SCALE_SUMS_PARAMETERS, SCALE_SUMS_BLOCKS_LOOP, g, x, batch, channels, plane, c0,
                  c1, mean, inverse, sums)
DEFINE_ISA_KERNEL(batch_norm_affine_blocks, AFFINE_PARAMETERS, AFFINE_BLOCKS_LOOP, x, o, batch, channels, plane, c0, c1, a, b)
DEFINE_ISA_KERNEL(batch_norm_backward_blocks, BACKWARD_PARAMETERS, BACKWARD_BLOCKS_LOOP, g, x, o, batch, channels, plane, c0,
                  c1, a, b, d)
