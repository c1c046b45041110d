#ifndef GAN_LAB_MICRO_KERNELS_H
#define GAN_LAB_MICRO_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// Instruction sets a fixed-order product can run on. Every one gives the same bits.
typedef enum {
    fixed_order_scalar = 0,   ///< fmaf, one element at a time (any x86-64 CPU)
    fixed_order_avx2 = 1,     ///< 8 columns per FMA instruction (AVX2 + FMA)
    fixed_order_avx512 = 2,   ///< 16 columns per FMA instruction (AVX-512 F)
} fixed_order_isa;

/// What the CPU and the operating system let a program use, read with CPUID.
typedef struct {
    int avx2_fma;      ///< AVX2 and FMA3
    int avx512;        ///< AVX-512 F, BW, DQ and VL (what OpenBLAS's SkylakeX kernels use)
    int family;        ///< display family
    int model;         ///< display model
    char brand[49];    ///< the processor brand string
} cpu_features;

cpu_features cpu_features_read(void);

/// C[m, n] = op(A)·op(B) + beta·C for row-major matrices, op = transpose when asked
/// (A is [m, k] with row stride lda, or [k, m] when transposed; B likewise), or, when `bias` is
/// not NULL, op(A)·op(B) + bias with the row bias[n] added to every row (beta is then ignored).
/// Every element of C is one chain of fused multiply–adds in increasing order of the inner
/// index, started from beta·C (from C when beta is 1, from 0 when beta is 0: C is then not
/// read), or from bias[j]: the bits of filling C's rows with the bias and passing beta 1.
/// The instruction set decides only how many elements run at once, never the order,
/// so every `isa` and every cut of C into blocks gives the same bits.
void gemm_fixed_order(fixed_order_isa isa, int transpose_a, int transpose_b,
                      ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                      const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
                      float beta, const float *bias, float *c, ptrdiff_t ldc);

/// The unit `gemm_fixed_order_chunks` cuts C = op(A)·op(B)'s columns in (a tile's or a packed
/// panel's width), or 0 where it does not take the product in chunks (the scalar `isa`, a small
/// or narrow product, or one of more than 96 rows that W is not broadcast for).
ptrdiff_t gemm_fixed_order_chunk_width(fixed_order_isa isa, int transpose_a, int transpose_b, ptrdiff_t m,
                                       ptrdiff_t n, ptrdiff_t k, ptrdiff_t ldb);

/// `gemm_fixed_order`'s product a chunk of C's columns at a time, for `threads` threads sharing
/// it: each call (one a thread, `side` 0 to threads − 1) claims chunks from `*claimed` (0 to
/// start: how many units of `gemm_fixed_order_chunk_width` columns are taken from the left, in
/// the low 32 bits, and from the right, in the high 32) until none is left. Side 0 takes from the
/// left, the others from the right, large chunks first and single units last, so that the
/// threads finish close together however the host slows one. The calling thread packs op(A)
/// once, after its first claim. Every element has the bits `gemm_fixed_order` gives it,
/// whichever thread computes it. Does nothing where `gemm_fixed_order_chunk_width` is 0.
void gemm_fixed_order_chunks(fixed_order_isa isa, int transpose_a, int transpose_b, ptrdiff_t m, ptrdiff_t n,
                             ptrdiff_t k, const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb, float beta,
                             const float *bias, float *c, ptrdiff_t ldc, uint64_t *claimed, ptrdiff_t threads,
                             ptrdiff_t side);

/// Receives rows first_row..<first_row + rows of a product, row stride the product's n, valid
/// only during the call.
typedef void (*row_block_done)(void *context, ptrdiff_t first_row, ptrdiff_t rows, const float *block);

/// One product op(A)·op(B) of a sum that `gemm_fixed_order_row_blocks` takes: op(A) is [m, k]
/// (A [k, m] transposed), op(B) is [k, n] (B [n, k] transposed).
typedef struct {
    int transpose_a, transpose_b;
    ptrdiff_t k;
    const float *a;
    ptrdiff_t lda;
    const float *b;
    ptrdiff_t ldb;
} product_term;

/// The most terms `gemm_fixed_order_row_blocks` sums.
enum { max_product_terms = 4 };

/// C[m, n] = the sum of `count` products (`terms`, beta 0, no bias) handed to `done` a block of
/// rows at a time, each block computed into a small per-thread scratch and passed on while in
/// cache: C is never stored whole. For `threads` threads sharing the product, one call each
/// (`side` 0 to threads − 1): blocks are claimed from `*claimed` (0 to start) as
/// `gemm_fixed_order_chunks` claims columns, in units of the tiles' rows and at most 96 rows,
/// each thread packing every op(B) once. Every element has the bits of the terms computed whole
/// by `gemm_fixed_order` and added in order (a gradient accumulated over a weight's uses).
/// Returns 0, computing nothing, where it does not apply: the scalar `isa`, n > 1024 or a k > 256
/// (one packed block of each op(B)), more than `max_product_terms` terms, or an empty product.
int gemm_fixed_order_row_blocks(fixed_order_isa isa, ptrdiff_t m, ptrdiff_t n, const product_term *terms, int count,
                                row_block_done done, void *context, uint64_t *claimed, ptrdiff_t threads,
                                ptrdiff_t side);

/// y[i] = softplus(x[i]) = log(1 + e^x[i]), computed in double precision by one fixed sequence
/// of operations (vector_math.c): the same bits on every `isa`, within an ulp of the true value
/// (NaN passes through). x and y must not overlap.
void vector_softplus(fixed_order_isa isa, const float *x, float *y, ptrdiff_t n);

/// y[i] = tanh(x[i]) by fdlibm's single-precision method, in its operations and their order
/// (vector_math.c): for every float the bits of glibc's tanhf (up to 2.40), on every `isa`.
void vector_tanh(fixed_order_isa isa, const float *x, float *y, ptrdiff_t n);

/// y[i] = 1 / (1 + e^−x[i]) for x[i] ≥ 0 and e / (1 + e) with e = e^x[i] below, e by the method of
/// glibc's expf (vector_math.c): for every float the bits of those formulas on that expf
/// (glibc 2.27 on, on a CPU with AVX2 and FMA), on every `isa`. x and y must not overlap.
void vector_sigmoid(fixed_order_isa isa, const float *x, float *y, ptrdiff_t n);

/// y[i] = x[i] > 0 ? x[i] : slope·x[i] (LeakyReLU; ReLU with slope 0). y may be x (in place).
void vector_leaky_relu(fixed_order_isa isa, const float *x, float *y, ptrdiff_t n, float slope);

/// y[i] = x[i] > 0 ? g[i] : slope·g[i] (LeakyReLU's pullback, x its input or output). No overlaps.
void vector_scaled_by_sign(fixed_order_isa isa, const float *g, const float *x, float *y, ptrdiff_t n, float slope);

/// sums[c] = 0 + x[0][c] + x[1][c] + … + x[rows − 1][c], in that order, for the columns of a
/// row-major [rows, columns] matrix: the bits of one column at a time on every `isa`.
void column_sums(fixed_order_isa isa, const float *x, ptrdiff_t rows, ptrdiff_t columns, float *sums);
/// y = vector_scaled_by_sign(g, x) on a rows × columns matrix and sums = column_sums(y), in one
/// pass, the bits of the two. The buffers must not overlap.
void scaled_by_sign_column_sums(fixed_order_isa isa, const float *g, const float *x, float *y, ptrdiff_t rows,
                                ptrdiff_t columns, float slope, float *sums);

/// Adam's step on n elements of a parameter p with gradient g and moments m, v:
/// m = b1·m + (1 − b1)·g, v = b2·v + (1 − b2)·g·g, p −= step_size·m / (√v + eps), each in that
/// order of IEEE operations, so every `isa` gives the same bits. The buffers must not overlap.
void adam_update(fixed_order_isa isa, float *p, const float *g, float *m, float *v, ptrdiff_t n, float b1,
                 float b2, float step_size, float eps);
/// RMSProp's step on n elements of a parameter p with gradient g and mean square v:
/// v = rho·v + (1 − rho)·g·g, then p −= lr·g / √(v + eps) when `inside`, else p −= lr·g / (√v + eps),
/// each in that order of IEEE operations, so every `isa` gives the same bits. No overlaps.
void rmsprop_update(fixed_order_isa isa, float *p, const float *g, float *v, ptrdiff_t n, float rho, float lr, float eps,
                    int inside);

/// Dropout with its mask drawn where it is used (vector_math.c): the factor of element i is
/// `scale` when 32-bit draw i of the SplitMix64 stream at `state` (two draws per 64 random bits,
/// the low half first) is below `threshold`, else 0. Each works on elements first..<end (first
/// even) of its buffers, which must not overlap; every `isa` gives the same bits.
/// m[i] = the factor.
void dropout_mask(fixed_order_isa isa, float *m, ptrdiff_t first, ptrdiff_t end, uint64_t state,
                  uint64_t threshold, float scale);
/// y[i] = (x[i] > 0 ? x[i] : slope·x[i]) · factor: dropout of a leaky rectifier (slope 1: of x).
void dropout_forward(fixed_order_isa isa, const float *x, float *y, float slope, ptrdiff_t first, ptrdiff_t end,
                     uint64_t state, uint64_t threshold, float scale);
/// out[i] = g[i]·factor where sign[i] > 0, slope·(g[i]·factor) elsewhere: the pullback of
/// `dropout_forward` (sign its x).
void dropout_backward(fixed_order_isa isa, const float *g, const float *sign, float *out, float slope,
                      ptrdiff_t first, ptrdiff_t end, uint64_t state, uint64_t threshold, float scale);

/// dst[c·ldd + r] = src[r·lds + c] for r < rows, c < columns, 8 × 8 blocks in AVX registers:
/// only where `fixed_order_isa` is AVX2 or AVX-512.
void transpose_floats(const float *src, ptrdiff_t lds, ptrdiff_t rows, ptrdiff_t columns, float *dst, ptrdiff_t ldd);

/// oneDNN's 16-channel blocked layout of an [N, C, P] tensor (C a multiple of 16; aBcd16b for
/// images): block b = n·C/16 + j holds channels 16j..<16j+16 of sample n as [P][16], in the
/// place of the plain tensor's elements b·16·P..<(b+1)·16·P. These run on blocks block0..<block1.
void channel_blocks_to_plain(fixed_order_isa isa, const float *blocks, float *plain, ptrdiff_t plane, ptrdiff_t block0,
                             ptrdiff_t block1);
void channel_blocks_from_plain(fixed_order_isa isa, const float *plain, float *blocks, ptrdiff_t plane, ptrdiff_t block0,
                               ptrdiff_t block1);
/// `dropout_forward` and `dropout_backward` on buffers in that layout: every element gets the
/// factor of its plain index, so the same bits as on the plain tensor.
void dropout_forward_blocks(fixed_order_isa isa, const float *x, float *y, float slope, ptrdiff_t plane,
                            ptrdiff_t block0, ptrdiff_t block1, uint64_t state, uint64_t threshold, float scale);
void dropout_backward_blocks(fixed_order_isa isa, const float *g, const float *sign, float *out, float slope,
                             ptrdiff_t plane, ptrdiff_t block0, ptrdiff_t block1, uint64_t state, uint64_t threshold,
                             float scale);

/// out[i] = (float)(low + width·u) with u = (draw i >> 11)·2⁻⁵³ in double, draw i the 64-bit
/// SplitMix64 draw i of the stream at `state` (the first is the one RandomSource.nextBits gives
/// next): the same bits on every `isa`.
void uniform_fill(fixed_order_isa isa, float *out, ptrdiff_t n, uint64_t state, double low, double width);

/// Batch normalisation's loops over an [N, C, P] view (P = 1 for dense activations), for the
/// channels c0..<c1 (batch_norm.c): every plane's sum one chain of float additions in increasing
/// p, every batch sum one chain of double additions in increasing n; the same bits on every `isa`.
/// sums[c] = Σₙ Σₚ x (Σₚ in float), or Σₙ Σₚ (x − center[c])² when `center` is not NULL.
void batch_norm_sums(fixed_order_isa isa, const float *x, ptrdiff_t batch, ptrdiff_t channels, ptrdiff_t plane,
                     ptrdiff_t c0, ptrdiff_t c1, const float *center, double *sums);
/// sums[c] = Σₙ (Σₚ g·(x − mean[c])) · inverse[c], the inner sum in float from 0.
void batch_norm_scale_sums(fixed_order_isa isa, const float *g, const float *x, ptrdiff_t batch, ptrdiff_t channels,
                           ptrdiff_t plane, ptrdiff_t c0, ptrdiff_t c1, const float *mean, const float *inverse,
                           double *sums);
/// o = x·a[c] + b[c].
void batch_norm_affine(fixed_order_isa isa, const float *x, float *o, ptrdiff_t batch, ptrdiff_t channels,
                       ptrdiff_t plane, ptrdiff_t c0, ptrdiff_t c1, const float *a, const float *b);
/// o = g·a[c] + x·b[c] + d[c], added left to right.
void batch_norm_backward(fixed_order_isa isa, const float *g, const float *x, float *o, ptrdiff_t batch,
                         ptrdiff_t channels, ptrdiff_t plane, ptrdiff_t c0, ptrdiff_t c1, const float *a,
                         const float *b, const float *d);

/// The four loops above on a tensor in 16-channel blocks (`channel_blocks_to_plain`), c0 and c1
/// multiples of 16: every sum the same chain, so the same bits as on the plain tensor.
void batch_norm_sums_blocks(fixed_order_isa isa, const float *x, ptrdiff_t batch, ptrdiff_t channels, ptrdiff_t plane,
                            ptrdiff_t c0, ptrdiff_t c1, const float *center, double *sums);
void batch_norm_scale_sums_blocks(fixed_order_isa isa, const float *g, const float *x, ptrdiff_t batch,
                                  ptrdiff_t channels, ptrdiff_t plane, ptrdiff_t c0, ptrdiff_t c1, const float *mean,
                                  const float *inverse, double *sums);
void batch_norm_affine_blocks(fixed_order_isa isa, const float *x, float *o, ptrdiff_t batch, ptrdiff_t channels,
                              ptrdiff_t plane, ptrdiff_t c0, ptrdiff_t c1, const float *a, const float *b);
void batch_norm_backward_blocks(fixed_order_isa isa, const float *g, const float *x, float *o, ptrdiff_t batch,
                                ptrdiff_t channels, ptrdiff_t plane, ptrdiff_t c0, ptrdiff_t c1, const float *a,
                                const float *b, const float *d);

/// A hint to the CPU that this thread is waiting in a loop (x86's PAUSE): less power, and the
/// loop's end is not mispredicted when the awaited value arrives.
static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/// Minibatch discrimination's closeness sums (closeness.c) of rows x [n, kernels·size]:
/// exponentials[(k·n + j)·n + i] = exp(−‖M_i,k − M_j,k‖₁), sums[i·kernels + k] = Σ_j of them over j in
/// order; scratch holds (kernels·size + 2)·n floats.
void closeness_sums(fixed_order_isa isa, const float *x, ptrdiff_t n, ptrdiff_t kernels, ptrdiff_t size,
                    float *exponentials, float *sums, float *scratch);
/// Their pullback: gradient [n, kernels·size] from upstream [n, kernels]; scratch holds
/// (2·kernels·size + 1)·n floats.
void closeness_sums_pullback(fixed_order_isa isa, const float *x, const float *upstream, const float *exponentials,
                             ptrdiff_t n, ptrdiff_t kernels, ptrdiff_t size, float *gradient, float *scratch);

#endif
