// A matrix product whose every output element is one chain of fused multiply–adds in
// increasing order of the inner index: the same bits on every x86-64 CPU, whatever its vector
// width, and whatever block of the output a thread computes.
//
// The layout is the classic one (Goto and van de Geijn): blocks of B's rows and columns packed
// into panels of NR columns, blocks of A's rows packed into panels of MR rows, and a micro-kernel
// that keeps an MR × NR tile of C in registers while it walks the inner index. Cutting the inner
// index into blocks stores the running sums in C and loads them back, which changes no bit.
#include "micro_kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

enum {
    inner_block = 256,   // KC: rows of B (and columns of A) packed at once
    row_block = 96,      // MC: rows of A packed at once (a multiple of every MR)
    column_block = 1024, // NC: columns of B packed at once (a multiple of every NR)
};

/// How a tile starts: from zero, from C, or from beta·C.
typedef enum { start_zero = 0, start_c = 1, start_scaled_c = 2 } tile_start;

typedef void (*tile_kernel)(ptrdiff_t depth, const float *a, const float *b, float *c, ptrdiff_t ldc,
                            tile_start start, float beta);

// MARK: Packing

static inline float element(const float *x, ptrdiff_t ld, int transposed, ptrdiff_t row, ptrdiff_t column) {
    return transposed ? x[column * ld + row] : x[row * ld + column];
}

/// op(A)[rows, depth] as panels of `mr` rows: panel[p][r], zero past the last row.
static void pack_a(const float *a, ptrdiff_t lda, int transposed, ptrdiff_t row0, ptrdiff_t rows,
                   ptrdiff_t p0, ptrdiff_t depth, int mr, float *out) {
    for (ptrdiff_t panel = 0; panel < rows; panel += mr) {
        ptrdiff_t height = rows - panel < mr ? rows - panel : mr;
        for (ptrdiff_t p = 0; p < depth; p++) {
            for (ptrdiff_t r = 0; r < height; r++)
                out[r] = element(a, lda, transposed, row0 + panel + r, p0 + p);
            for (ptrdiff_t r = height; r < mr; r++) out[r] = 0;
            out += mr;
        }
    }
}

/// op(B)[depth, columns] as panels of `nr` columns: panel[p][c], zero past the last column.
static void pack_b(const float *b, ptrdiff_t ldb, int transposed, ptrdiff_t p0, ptrdiff_t depth,
                   ptrdiff_t column0, ptrdiff_t columns, int nr, float *out) {
    for (ptrdiff_t panel = 0; panel < columns; panel += nr) {
        ptrdiff_t width = columns - panel < nr ? columns - panel : nr;
        if (width < nr) memset(out, 0, sizeof(float) * (size_t)(nr * depth));
        if (transposed) {  // B's rows are op(B)'s columns: read each along its length
            for (ptrdiff_t j = 0; j < width; j++) {
                const float *column = b + (column0 + panel + j) * ldb + p0;
                for (ptrdiff_t p = 0; p < depth; p++) out[p * nr + j] = column[p];
            }
        } else {
            for (ptrdiff_t p = 0; p < depth; p++)
                memcpy(out + p * nr, b + (p0 + p) * ldb + column0 + panel, sizeof(float) * (size_t)width);
        }
        out += nr * depth;
    }
}

// MARK: Micro-kernels

#if defined(__x86_64__)

#define AVX2_MR 6
#define AVX2_NR 16

__attribute__((target("avx2,fma")))
static void tile_avx2(ptrdiff_t depth, const float *a, const float *b, float *c, ptrdiff_t ldc,
                      tile_start start, float beta) {
    __m256 sum[AVX2_MR][2];
    for (int r = 0; r < AVX2_MR; r++) {
        if (start == start_zero) {
            sum[r][0] = _mm256_setzero_ps();
            sum[r][1] = _mm256_setzero_ps();
        } else {
            sum[r][0] = _mm256_loadu_ps(c + r * ldc);
            sum[r][1] = _mm256_loadu_ps(c + r * ldc + 8);
            if (start == start_scaled_c) {
                sum[r][0] = _mm256_mul_ps(sum[r][0], _mm256_set1_ps(beta));
                sum[r][1] = _mm256_mul_ps(sum[r][1], _mm256_set1_ps(beta));
            }
        }
    }
    for (ptrdiff_t p = 0; p < depth; p++) {
        __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
        for (int r = 0; r < AVX2_MR; r++) {
            __m256 x = _mm256_broadcast_ss(a + r);
            sum[r][0] = _mm256_fmadd_ps(x, b0, sum[r][0]);
            sum[r][1] = _mm256_fmadd_ps(x, b1, sum[r][1]);
        }
        a += AVX2_MR;
        b += AVX2_NR;
    }
    for (int r = 0; r < AVX2_MR; r++) {
        _mm256_storeu_ps(c + r * ldc, sum[r][0]);
        _mm256_storeu_ps(c + r * ldc + 8, sum[r][1]);
    }
}

#define AVX512_MR 8
#define AVX512_NR 32

__attribute__((target("avx512f")))
static void tile_avx512(ptrdiff_t depth, const float *a, const float *b, float *c, ptrdiff_t ldc,
                        tile_start start, float beta) {
    __m512 sum[AVX512_MR][2];
    for (int r = 0; r < AVX512_MR; r++) {
        if (start == start_zero) {
            sum[r][0] = _mm512_setzero_ps();
            sum[r][1] = _mm512_setzero_ps();
        } else {
            sum[r][0] = _mm512_loadu_ps(c + r * ldc);
            sum[r][1] = _mm512_loadu_ps(c + r * ldc + 16);
            if (start == start_scaled_c) {
                sum[r][0] = _mm512_mul_ps(sum[r][0], _mm512_set1_ps(beta));
                sum[r][1] = _mm512_mul_ps(sum[r][1], _mm512_set1_ps(beta));
            }
        }
    }
    for (ptrdiff_t p = 0; p < depth; p++) {
        __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
        for (int r = 0; r < AVX512_MR; r++) {
            __m512 x = _mm512_set1_ps(a[r]);
            sum[r][0] = _mm512_fmadd_ps(x, b0, sum[r][0]);
            sum[r][1] = _mm512_fmadd_ps(x, b1, sum[r][1]);
        }
        a += AVX512_MR;
        b += AVX512_NR;
    }
    for (int r = 0; r < AVX512_MR; r++) {
        _mm512_storeu_ps(c + r * ldc, sum[r][0]);
        _mm512_storeu_ps(c + r * ldc + 16, sum[r][1]);
    }
}

#endif

// MARK: The blocked product

/// Scratch for the packed panels, one set per thread, grown when a product needs more.
static _Thread_local float *packed_a, *packed_b;
static _Thread_local size_t packed_a_size, packed_b_size;

static float *scratch(float **buffer, size_t *size, size_t count) {
    if (*size < count) {
        free(*buffer);
        *buffer = aligned_alloc(64, (count * sizeof(float) + 63) / 64 * 64);
        *size = *buffer ? count : 0;
    }
    return *buffer;
}

/// The tile of C at (row, column), `height` × `width` of it inside the product: straight into C
/// when it is a whole tile, through a local tile otherwise.
static void run_tile(tile_kernel kernel, int mr, int nr, ptrdiff_t depth, const float *a, const float *b,
                     float *c, ptrdiff_t ldc, ptrdiff_t height, ptrdiff_t width, tile_start start, float beta) {
    if (height == mr && width == nr) {
        kernel(depth, a, b, c, ldc, start, beta);
        return;
    }
    float local[16 * 32] __attribute__((aligned(64)));
    memset(local, 0, sizeof(float) * (size_t)(mr * nr));
    if (start != start_zero)
        for (ptrdiff_t r = 0; r < height; r++) memcpy(local + r * nr, c + r * ldc, sizeof(float) * (size_t)width);
    kernel(depth, a, b, local, nr, start, beta);
    for (ptrdiff_t r = 0; r < height; r++) memcpy(c + r * ldc, local + r * nr, sizeof(float) * (size_t)width);
}

static void gemm_blocked(tile_kernel kernel, int mr, int nr, int transpose_a, int transpose_b,
                         ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                         const float *b, ptrdiff_t ldb, float beta, float *c, ptrdiff_t ldc) {
    float *pa = scratch(&packed_a, &packed_a_size, (size_t)row_block * inner_block);
    float *pb = scratch(&packed_b, &packed_b_size, (size_t)column_block * inner_block);
    if (!pa || !pb) abort();
    for (ptrdiff_t jc = 0; jc < n; jc += column_block) {
        ptrdiff_t nc = n - jc < column_block ? n - jc : column_block;
        for (ptrdiff_t pc = 0; pc < k; pc += inner_block) {
            ptrdiff_t kc = k - pc < inner_block ? k - pc : inner_block;
            tile_start start = pc > 0 ? start_c : beta == 0 ? start_zero : beta == 1 ? start_c : start_scaled_c;
            pack_b(b, ldb, transpose_b, pc, kc, jc, nc, nr, pb);
            for (ptrdiff_t ic = 0; ic < m; ic += row_block) {
                ptrdiff_t mc = m - ic < row_block ? m - ic : row_block;
                pack_a(a, lda, transpose_a, ic, mc, pc, kc, mr, pa);
                for (ptrdiff_t jr = 0; jr < nc; jr += nr) {
                    ptrdiff_t width = nc - jr < nr ? nc - jr : nr;
                    for (ptrdiff_t ir = 0; ir < mc; ir += mr) {
                        ptrdiff_t height = mc - ir < mr ? mc - ir : mr;
                        run_tile(kernel, mr, nr, kc, pa + ir * kc, pb + jr * kc, c + (ic + ir) * ldc + jc + jr,
                                 ldc, height, width, start, beta);
                    }
                }
            }
        }
    }
}

/// One element at a time with fmaf: the reference order, on any CPU (one FMA instruction where
/// the CPU has them, the C library's exact emulation otherwise: the same bits).
#if defined(__x86_64__) && defined(__clang__) && defined(__linux__)
__attribute__((target_clones("fma", "default")))
#endif
static void gemm_scalar(int transpose_a, int transpose_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                        const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb, float beta, float *c,
                        ptrdiff_t ldc) {
    for (ptrdiff_t i = 0; i < m; i++) {
        for (ptrdiff_t j = 0; j < n; j++) {
            float sum = beta == 0 ? 0 : beta == 1 ? c[i * ldc + j] : c[i * ldc + j] * beta;
            for (ptrdiff_t p = 0; p < k; p++)
                sum = fmaf(element(a, lda, transpose_a, i, p), element(b, ldb, transpose_b, p, j), sum);
            c[i * ldc + j] = sum;
        }
    }
}

void gemm_fixed_order(fixed_order_isa isa, int transpose_a, int transpose_b, ptrdiff_t m, ptrdiff_t n,
                      ptrdiff_t k, const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb, float beta,
                      float *c, ptrdiff_t ldc) {
    if (m <= 0 || n <= 0) return;
    switch (k > 0 ? isa : fixed_order_scalar) {
#if defined(__x86_64__)
    case fixed_order_avx512:
        gemm_blocked(tile_avx512, AVX512_MR, AVX512_NR, transpose_a, transpose_b, m, n, k, a, lda, b, ldb,
                     beta, c, ldc);
        return;
    case fixed_order_avx2:
        gemm_blocked(tile_avx2, AVX2_MR, AVX2_NR, transpose_a, transpose_b, m, n, k, a, lda, b, ldb, beta,
                     c, ldc);
        return;
#endif
    default:
        gemm_scalar(transpose_a, transpose_b, m, n, k, a, lda, b, ldb, beta, c, ldc);
    }
}
