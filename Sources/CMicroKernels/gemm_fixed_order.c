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

/// How a tile starts: from zero, from its start rows S (C's own rows, or the bias row repeated),
/// or from beta·S.
typedef enum { start_zero = 0, start_c = 1, start_scaled_c = 2 } tile_start;

/// A tile of C (row stride ldc) from the packed panels a and b, started from S's rows
/// (s + r·lds: C itself, or a bias row with lds 0).
typedef void (*tile_kernel)(ptrdiff_t depth, const float *a, const float *b, float *c, ptrdiff_t ldc,
                            tile_start start, float beta, const float *s, ptrdiff_t lds);

// MARK: Packing

static inline float element(const float *x, ptrdiff_t ld, int transposed, ptrdiff_t row, ptrdiff_t column) {
    return transposed ? x[column * ld + row] : x[row * ld + column];
}

#if defined(__x86_64__)
/// dst[i] = v[i] for i < count (1–7): narrow moves only, so nothing past dst + count is touched.
__attribute__((target("avx"))) static inline __attribute__((always_inline)) void store_first(float *dst, __m256 v, int count) {
    __m128 part = _mm256_castps256_ps128(v);
    if (count >= 4) {
        _mm_storeu_ps(dst, part);
        part = _mm256_extractf128_ps(v, 1);
        dst += 4;
        count -= 4;
    }
    if (count >= 2) {
        _mm_storel_pi((__m64 *)dst, part);
        part = _mm_movehl_ps(part, part);
        dst += 2;
        count -= 2;
    }
    if (count) _mm_store_ss(dst, part);
}

/// The 8 × 8 transpose's shuffles: the columns of rows r0–r7 into c[0]–c[7].
#define TRANSPOSE_8X8(r0, r1, r2, r3, r4, r5, r6, r7, c)                                                              \
    do {                                                                                                            \
        __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3),    \
               t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),    \
               t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);                                    \
        __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE),                           \
               s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE),                           \
               s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE),                           \
               s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);                           \
        c[0] = _mm256_permute2f128_ps(s0, s4, 0x20), c[1] = _mm256_permute2f128_ps(s1, s5, 0x20);                   \
        c[2] = _mm256_permute2f128_ps(s2, s6, 0x20), c[3] = _mm256_permute2f128_ps(s3, s7, 0x20);                   \
        c[4] = _mm256_permute2f128_ps(s0, s4, 0x31), c[5] = _mm256_permute2f128_ps(s1, s5, 0x31);                   \
        c[6] = _mm256_permute2f128_ps(s2, s6, 0x31), c[7] = _mm256_permute2f128_ps(s3, s7, 0x31);                   \
    } while (0)

/// dst[c·ldd + r] = src[r·lds + c] for 8 rows and 8 columns, in registers (AVX).
__attribute__((target("avx"))) static inline __attribute__((always_inline)) void
transpose_8x8(const float *src, ptrdiff_t lds, float *dst, ptrdiff_t ldd) {
    __m256 c[8];
    TRANSPOSE_8X8(_mm256_loadu_ps(src), _mm256_loadu_ps(src + lds), _mm256_loadu_ps(src + 2 * lds),
                  _mm256_loadu_ps(src + 3 * lds), _mm256_loadu_ps(src + 4 * lds), _mm256_loadu_ps(src + 5 * lds),
                  _mm256_loadu_ps(src + 6 * lds), _mm256_loadu_ps(src + 7 * lds), c);
    for (int j = 0; j < 8; j++) _mm256_storeu_ps(dst + j * ldd, c[j]);
}

/// The same for `rows` rows (4–7): the missing rows read as zeros and never stored.
__attribute__((target("avx"))) static inline __attribute__((always_inline)) void
transpose_short_8x8(const float *src, ptrdiff_t lds, int rows, float *dst, ptrdiff_t ldd) {
    __m256 zero = _mm256_setzero_ps(), c[8];
    TRANSPOSE_8X8(_mm256_loadu_ps(src), _mm256_loadu_ps(src + lds), _mm256_loadu_ps(src + 2 * lds),
                  _mm256_loadu_ps(src + 3 * lds), rows > 4 ? _mm256_loadu_ps(src + 4 * lds) : zero,
                  rows > 5 ? _mm256_loadu_ps(src + 5 * lds) : zero, rows > 6 ? _mm256_loadu_ps(src + 6 * lds) : zero,
                  zero, c);
    for (int j = 0; j < 8; j++) store_first(dst + j * ldd, c[j], rows);
}
#endif

/// dst[c·ldd + r] = src[r·lds + c] for r < rows, c < columns: blocks of 4–8 rows and 8 columns
/// in registers (AVX2's 6-row panels of A too), the rest one element at a time.
/// Only moves numbers, so it changes no bit of any product; the packed panels of the
/// fixed-order kernels (which run only where AVX2 does) are made with it.
#if defined(__x86_64__)
__attribute__((target("avx")))
#endif
static void transpose(const float *src, ptrdiff_t lds, ptrdiff_t rows, ptrdiff_t columns, float *dst, ptrdiff_t ldd) {
    ptrdiff_t r = 0;
#if defined(__x86_64__)
    for (; r + 8 <= rows; r += 8) {
        ptrdiff_t c = 0;
        for (; c + 8 <= columns; c += 8) transpose_8x8(src + r * lds + c, lds, dst + c * ldd + r, ldd);
        for (; c < columns; c++)
            for (ptrdiff_t i = r; i < r + 8; i++) dst[c * ldd + i] = src[i * lds + c];
    }
    if (rows - r >= 4 && columns >= 8) {  // 4–7 last rows (fewer go faster one element at a time)
        int height = (int)(rows - r);
        ptrdiff_t c = 0;
        for (; c + 8 <= columns; c += 8) transpose_short_8x8(src + r * lds + c, lds, height, dst + c * ldd + r, ldd);
        for (; c < columns; c++)
            for (ptrdiff_t i = r; i < rows; i++) dst[c * ldd + i] = src[i * lds + c];
        r = rows;
    }
    if (rows == 2 && ldd == 2) {  // two rows interleaved into one run (a flipped product's Cᵀ of 2 rows)
        ptrdiff_t c = 0;
        for (; c + 8 <= columns; c += 8) {
            __m256 first = _mm256_loadu_ps(src + c), second = _mm256_loadu_ps(src + lds + c);
            __m256 low = _mm256_unpacklo_ps(first, second), high = _mm256_unpackhi_ps(first, second);
            _mm256_storeu_ps(dst + 2 * c, _mm256_permute2f128_ps(low, high, 0x20));
            _mm256_storeu_ps(dst + 2 * c + 8, _mm256_permute2f128_ps(low, high, 0x31));
        }
        for (; c < columns; c++) {
            dst[2 * c] = src[c];
            dst[2 * c + 1] = src[lds + c];
        }
        return;
    }
#endif
    if (rows == 1 && ldd == 1) {
        memcpy(dst, src, (size_t)columns * sizeof(float));
        return;
    }
    for (; r < rows; r++)
        for (ptrdiff_t c = 0; c < columns; c++) dst[c * ldd + r] = src[r * lds + c];
}

void transpose_floats(const float *src, ptrdiff_t lds, ptrdiff_t rows, ptrdiff_t columns, float *dst, ptrdiff_t ldd) {
    transpose(src, lds, rows, columns, dst, ldd);
}

/// dst[p·width + j] = src[p·lds + j] for p < rows, j < width (a multiple of 8): 8 floats a
/// move, the row a few ahead asked for early (the rows of a large B are far apart in memory).
#if defined(__x86_64__)
__attribute__((target("avx")))
#endif
static void copy_rows(const float *src, ptrdiff_t lds, ptrdiff_t rows, int width, float *dst) {
    for (ptrdiff_t p = 0; p < rows; p++, dst += width) {
        const float *row = src + p * lds;
        if (p + 4 < rows) {
            for (int j = 0; j < width; j += 16) __builtin_prefetch(row + 4 * lds + j);
        }
#if defined(__x86_64__)
        for (int j = 0; j < width; j += 8) _mm256_storeu_ps(dst + j, _mm256_loadu_ps(row + j));
#else
        for (int j = 0; j < width; j++) dst[j] = row[j];
#endif
    }
}

/// op(A)[rows, depth] as panels of `mr` rows: panel[p][r], zero past the last row. Inlined where
/// `mr` is a constant, so that a whole panel's rows copy without a loop.
static inline __attribute__((always_inline)) void pack_a(const float *a, ptrdiff_t lda, int transposed,
                                                         ptrdiff_t row0, ptrdiff_t rows, ptrdiff_t p0,
                                                         ptrdiff_t depth, int mr, float *out) {
    for (ptrdiff_t panel = 0; panel < rows; panel += mr) {
        ptrdiff_t height = rows - panel < mr ? rows - panel : mr;
        if (!transposed) {  // the panel's rows are A's rows: a transpose into panel[p][r]
            transpose(a + (row0 + panel) * lda + p0, lda, height, depth, out, mr);
            if (height < mr)
                for (ptrdiff_t p = 0; p < depth; p++)
                    for (int r = (int)height; r < mr; r++) out[p * mr + r] = 0;
            out += mr * depth;
            continue;
        }
        // op(A)'s rows are A's columns: one row of A holds the panel's p-th column.
        const float *first = a + p0 * lda + row0 + panel;
        if (height == mr) {  // a few wide moves a row (mr is a constant here), not mr single floats
            for (ptrdiff_t p = 0; p < depth; p++, out += mr) memcpy(out, first + p * lda, (size_t)mr * sizeof(float));
        } else {
            for (ptrdiff_t p = 0; p < depth; p++, out += mr)
                for (int r = 0; r < mr; r++) out[r] = r < height ? first[p * lda + r] : 0;
        }
    }
}

/// op(B)[depth, columns] as panels of `nr` columns: panel[p][c], zero past the last column.
static inline __attribute__((always_inline)) void pack_b(const float *b, ptrdiff_t ldb, int transposed, ptrdiff_t p0, ptrdiff_t depth,
                   ptrdiff_t column0, ptrdiff_t columns, int nr, float *out) {
    for (ptrdiff_t panel = 0; panel < columns; panel += nr) {
        ptrdiff_t width = columns - panel < nr ? columns - panel : nr;
        if (transposed) {  // op(B)'s columns are B's rows: a transpose into panel[p][c]
            transpose(b + (column0 + panel) * ldb + p0, ldb, width, depth, out, nr);
            if (width < nr)
                for (ptrdiff_t p = 0; p < depth; p++)
                    for (ptrdiff_t j = width; j < nr; j++) out[p * nr + j] = 0;
        } else {
            const float *row = b + p0 * ldb + column0 + panel;
            if (width == nr) {
                copy_rows(row, ldb, depth, nr, out);
            } else {
                for (ptrdiff_t p = 0; p < depth; p++) {
                    for (ptrdiff_t j = 0; j < width; j++) out[p * nr + j] = row[p * ldb + j];
                    for (ptrdiff_t j = width; j < nr; j++) out[p * nr + j] = 0;
                }
            }
        }
        out += nr * depth;
    }
}

// MARK: Micro-kernels

#if defined(__x86_64__)

// Each kernel keeps `vectors` registers a row: the whole tile (2), or its first half (1) for a
// last panel that narrow. The bodies are inlined into one function per instruction set and width.

#define AVX2_MR 6
#define AVX2_NR 16

__attribute__((target("avx2,fma"))) static inline __attribute__((always_inline)) void
tile_avx2_body(ptrdiff_t depth, const float *a, const float *b, float *c, ptrdiff_t ldc, tile_start start,
               float beta, const float *s, ptrdiff_t lds, int vectors) {
    __m256 sum[AVX2_MR][2];
    for (int r = 0; r < AVX2_MR; r++) {
        for (int v = 0; v < vectors; v++) {
            sum[r][v] = start == start_zero ? _mm256_setzero_ps() : _mm256_loadu_ps(s + r * lds + 8 * v);
            if (start == start_scaled_c) sum[r][v] = _mm256_mul_ps(sum[r][v], _mm256_set1_ps(beta));
        }
    }
    for (ptrdiff_t p = 0; p < depth; p++) {
        __m256 column[2] = {_mm256_load_ps(b), vectors > 1 ? _mm256_load_ps(b + 8) : _mm256_setzero_ps()};
        for (int r = 0; r < AVX2_MR; r++) {
            __m256 x = _mm256_broadcast_ss(a + r);
            for (int v = 0; v < vectors; v++) sum[r][v] = _mm256_fmadd_ps(x, column[v], sum[r][v]);
        }
        a += AVX2_MR;
        b += AVX2_NR;
    }
    for (int r = 0; r < AVX2_MR; r++)
        for (int v = 0; v < vectors; v++) _mm256_storeu_ps(c + r * ldc + 8 * v, sum[r][v]);
}

__attribute__((target("avx2,fma"))) static void tile_avx2(ptrdiff_t depth, const float *a, const float *b, float *c,
        ptrdiff_t ldc, tile_start start, float beta, const float *s, ptrdiff_t lds) {
    tile_avx2_body(depth, a, b, c, ldc, start, beta, s, lds, 2);
}

__attribute__((target("avx2,fma"))) static void tile_avx2_narrow(ptrdiff_t depth, const float *a, const float *b, float *c,
        ptrdiff_t ldc, tile_start start, float beta, const float *s, ptrdiff_t lds) {
    tile_avx2_body(depth, a, b, c, ldc, start, beta, s, lds, 1);
}

#define AVX512_MR 8
#define AVX512_NR 32

__attribute__((target("avx512f"))) static inline __attribute__((always_inline)) void
tile_avx512_body(ptrdiff_t depth, const float *a, const float *b, float *c, ptrdiff_t ldc, tile_start start,
                 float beta, const float *s, ptrdiff_t lds, int vectors) {
    __m512 sum[AVX512_MR][2];
    for (int r = 0; r < AVX512_MR; r++) {
        for (int v = 0; v < vectors; v++) {
            sum[r][v] = start == start_zero ? _mm512_setzero_ps() : _mm512_loadu_ps(s + r * lds + 16 * v);
            if (start == start_scaled_c) sum[r][v] = _mm512_mul_ps(sum[r][v], _mm512_set1_ps(beta));
        }
    }
    for (ptrdiff_t p = 0; p < depth; p++) {
        __m512 column[2] = {_mm512_load_ps(b), vectors > 1 ? _mm512_load_ps(b + 16) : _mm512_setzero_ps()};
        for (int r = 0; r < AVX512_MR; r++) {
            __m512 x = _mm512_set1_ps(a[r]);
            for (int v = 0; v < vectors; v++) sum[r][v] = _mm512_fmadd_ps(x, column[v], sum[r][v]);
        }
        a += AVX512_MR;
        b += AVX512_NR;
    }
    for (int r = 0; r < AVX512_MR; r++)
        for (int v = 0; v < vectors; v++) _mm512_storeu_ps(c + r * ldc + 16 * v, sum[r][v]);
}

__attribute__((target("avx512f"))) static void tile_avx512(ptrdiff_t depth, const float *a, const float *b, float *c,
        ptrdiff_t ldc, tile_start start, float beta, const float *s, ptrdiff_t lds) {
    tile_avx512_body(depth, a, b, c, ldc, start, beta, s, lds, 2);
}

__attribute__((target("avx512f"))) static void tile_avx512_narrow(ptrdiff_t depth, const float *a, const float *b, float *c,
        ptrdiff_t ldc, tile_start start, float beta, const float *s, ptrdiff_t lds) {
    tile_avx512_body(depth, a, b, c, ldc, start, beta, s, lds, 1);
}

#endif

// MARK: Small products

// A product too small to repay packing (a few thousand multiply–adds, or one a handful of rows or
// columns wide) runs straight from A and B: each A element is broadcast from where it lies, op(B)'s
// rows are read in place when they are contiguous and whole vectors wide (a zero-padded copy
// otherwise), and a tile of `rows` × `vectors` vectors of C stays in registers over the whole
// inner index. The same chain for every element as the blocked product, so the same bits.

#if defined(__x86_64__)

/// A tile's operands: a(r, p) = a[r·a_row + p·a_step]; op(B)'s row p is b + p·ldb; the tile
/// starts from the rows s + r·lds (C's own, or a bias row with lds 0). Passed by address: a copy
/// of the whole struct, made just after its fields are stored one by one, waits for those stores
/// (a wide load cannot take its bytes from several narrow stores in flight), which took 13 % of
/// the product driver's time at mlp-quadratic's sizes.
typedef struct {
    const float *a;
    ptrdiff_t a_row, a_step;
    const float *b;
    ptrdiff_t ldb;
    const float *s;
    ptrdiff_t lds;
    // Where a later tile's A elements lie, asked for ahead of use (or NULL): with a_step 1, a line of
    // each of its rows every 16 steps of p; otherwise (AVX-512's g·W only) the line at
    // next + p·a_step every step.
    const float *next;
} small_operands;

#define SMALL_AVX512_ROWS 8
#define SMALL_AVX512_VECTORS 2
#define SMALL_AVX2_ROWS 6
#define SMALL_AVX2_VECTORS 2

__attribute__((target("avx512f"))) static inline __attribute__((always_inline)) void
small_avx512_body(ptrdiff_t depth, const small_operands *o, const float *a, const float *s, float *c, ptrdiff_t ldc,
                  tile_start start, float beta, int rows, int vectors) {
    // Each field read once, as wide as it was stored.
    const ptrdiff_t a_row = o->a_row, a_step = o->a_step, ldb = o->ldb, lds = o->lds;
    const float *b = o->b, *next = o->next;
    __m512 sum[SMALL_AVX512_ROWS][SMALL_AVX512_VECTORS];
    for (int r = 0; r < rows; r++) {
        for (int v = 0; v < vectors; v++) {
            sum[r][v] = start == start_zero ? _mm512_setzero_ps() : _mm512_loadu_ps(s + r * lds + 16 * v);
            if (start == start_scaled_c) sum[r][v] = _mm512_mul_ps(sum[r][v], _mm512_set1_ps(beta));
        }
    }
    for (ptrdiff_t p = 0; p < depth; p++, a += a_step, b += ldb) {
        if (next) {
            if (a_step != 1) __builtin_prefetch(next + p * a_step);
            else if ((p & 15) == 0)
                for (int r = 0; r < rows; r++) __builtin_prefetch(next + r * a_row + p);
        }
        __m512 column[SMALL_AVX512_VECTORS];
        for (int v = 0; v < vectors; v++) column[v] = _mm512_loadu_ps(b + 16 * v);
        for (int r = 0; r < rows; r++) {
            __m512 x = _mm512_set1_ps(a[r * a_row]);
            for (int v = 0; v < vectors; v++) sum[r][v] = _mm512_fmadd_ps(x, column[v], sum[r][v]);
        }
    }
    for (int r = 0; r < rows; r++)
        for (int v = 0; v < vectors; v++) _mm512_storeu_ps(c + r * ldc + 16 * v, sum[r][v]);
}

__attribute__((target("avx2,fma"))) static inline __attribute__((always_inline)) void
small_avx2_body(ptrdiff_t depth, const small_operands *o, const float *a, const float *s, float *c, ptrdiff_t ldc,
                tile_start start, float beta, int rows, int vectors) {
    // Each field read once, as wide as it was stored.
    const ptrdiff_t a_row = o->a_row, a_step = o->a_step, ldb = o->ldb, lds = o->lds;
    const float *b = o->b, *next = o->next;
    __m256 sum[SMALL_AVX2_ROWS][SMALL_AVX2_VECTORS];
    for (int r = 0; r < rows; r++) {
        for (int v = 0; v < vectors; v++) {
            sum[r][v] = start == start_zero ? _mm256_setzero_ps() : _mm256_loadu_ps(s + r * lds + 8 * v);
            if (start == start_scaled_c) sum[r][v] = _mm256_mul_ps(sum[r][v], _mm256_set1_ps(beta));
        }
    }
    for (ptrdiff_t p = 0; p < depth; p++, a += a_step, b += ldb) {
        if (next && (p & 15) == 0)  // only x·Wᵀ asks ahead on AVX2 (a_step 1)
            for (int r = 0; r < rows; r++) __builtin_prefetch(next + r * a_row + p);
        __m256 column[SMALL_AVX2_VECTORS];
        for (int v = 0; v < vectors; v++) column[v] = _mm256_loadu_ps(b + 8 * v);
        for (int r = 0; r < rows; r++) {
            __m256 x = _mm256_broadcast_ss(a + r * a_row);
            for (int v = 0; v < vectors; v++) sum[r][v] = _mm256_fmadd_ps(x, column[v], sum[r][v]);
        }
    }
    for (int r = 0; r < rows; r++)
        for (int v = 0; v < vectors; v++) _mm256_storeu_ps(c + r * ldc + 8 * v, sum[r][v]);
}

/// `tiles` tiles one under the other: rows·tiles rows of C from as many of A.
typedef void (*small_kernel)(ptrdiff_t depth, const small_operands *o, float *c, ptrdiff_t ldc, tile_start start,
                             float beta, ptrdiff_t tiles);

// One function per (rows, vectors), so that a tile's registers are known when it compiles.
#define SMALL_KERNEL(isa, features, rows, vectors)                                                             \
    __attribute__((target(features))) static void small_##isa##_##rows##x##vectors(                               \
        ptrdiff_t depth, const small_operands *o, float *c, ptrdiff_t ldc, tile_start start, float beta,          \
        ptrdiff_t tiles) {                                                                                        \
        const float *a = o->a, *s = o->s;                                                                         \
        for (ptrdiff_t t = 0; t < tiles; t++, a += rows * o->a_row, s += rows * o->lds, c += rows * ldc)        \
            small_##isa##_body(depth, o, a, s, c, ldc, start, beta, rows, vectors);                              \
    }
#define SMALL_KERNELS(isa, features, rows) SMALL_KERNEL(isa, features, rows, 1) SMALL_KERNEL(isa, features, rows, 2)
SMALL_KERNELS(avx512, "avx512f", 1) SMALL_KERNELS(avx512, "avx512f", 2) SMALL_KERNELS(avx512, "avx512f", 3)
SMALL_KERNELS(avx512, "avx512f", 4) SMALL_KERNELS(avx512, "avx512f", 5) SMALL_KERNELS(avx512, "avx512f", 6)
SMALL_KERNELS(avx512, "avx512f", 7) SMALL_KERNELS(avx512, "avx512f", 8)
SMALL_KERNELS(avx2, "avx2,fma", 1) SMALL_KERNELS(avx2, "avx2,fma", 2) SMALL_KERNELS(avx2, "avx2,fma", 3)
SMALL_KERNELS(avx2, "avx2,fma", 4) SMALL_KERNELS(avx2, "avx2,fma", 5) SMALL_KERNELS(avx2, "avx2,fma", 6)

static const small_kernel small_avx512[SMALL_AVX512_ROWS][SMALL_AVX512_VECTORS] = {
    {small_avx512_1x1, small_avx512_1x2}, {small_avx512_2x1, small_avx512_2x2}, {small_avx512_3x1, small_avx512_3x2},
    {small_avx512_4x1, small_avx512_4x2}, {small_avx512_5x1, small_avx512_5x2}, {small_avx512_6x1, small_avx512_6x2},
    {small_avx512_7x1, small_avx512_7x2}, {small_avx512_8x1, small_avx512_8x2}};
static const small_kernel small_avx2[SMALL_AVX2_ROWS][SMALL_AVX2_VECTORS] = {
    {small_avx2_1x1, small_avx2_1x2}, {small_avx2_2x1, small_avx2_2x2}, {small_avx2_3x1, small_avx2_3x2},
    {small_avx2_4x1, small_avx2_4x2}, {small_avx2_5x1, small_avx2_5x2}, {small_avx2_6x1, small_avx2_6x2}};

#endif

// MARK: The blocked product

/// Scratch for the packed panels, one set per thread, grown when a product needs more.
static _Thread_local float *packed_a, *packed_b, *transposed_c;
static _Thread_local size_t packed_a_size, packed_b_size, transposed_c_size;

static float *scratch(float **buffer, size_t *size, size_t count) {
    if (*size < count) {
        free(*buffer);
        *buffer = aligned_alloc(64, (count * sizeof(float) + 63) / 64 * 64);
        *size = *buffer ? count : 0;
    }
    return *buffer;
}

/// The tile of C at (row, column), `height` × `width` of it inside the product, started from S's
/// rows (s + r·lds): straight into C when it is a whole tile, through a local tile otherwise.
/// `narrow` computes the first nr/2 columns of a tile, for a last panel that narrow.
static void run_tile(tile_kernel kernel, tile_kernel narrow, int mr, int nr, ptrdiff_t depth, const float *a,
                     const float *b, float *c, ptrdiff_t ldc, ptrdiff_t height, ptrdiff_t width, tile_start start,
                     float beta, const float *s, ptrdiff_t lds) {
    if (width <= nr / 2) kernel = narrow;
    if (height == mr && (width == nr || (kernel == narrow && width == nr / 2))) {
        kernel(depth, a, b, c, ldc, start, beta, s, lds);
        return;
    }
    float local[16 * 32] __attribute__((aligned(64)));
    if (start != start_zero) {  // the padding is never stored, but keep it finite
        for (ptrdiff_t r = 0; r < mr; r++)
            for (ptrdiff_t j = 0; j < nr; j++) local[r * nr + j] = r < height && j < width ? s[r * lds + j] : 0;
    }
    kernel(depth, a, b, local, nr, start, beta, local, nr);
    for (ptrdiff_t r = 0; r < height; r++)
        for (ptrdiff_t j = 0; j < width; j++) c[r * ldc + j] = local[r * nr + j];
}

static inline __attribute__((always_inline)) void gemm_blocked(tile_kernel kernel, tile_kernel narrow, int mr, int nr, int transpose_a, int transpose_b,
                         ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                         const float *b, ptrdiff_t ldb, float beta, const float *bias, float *c, ptrdiff_t ldc) {
    float *pa = scratch(&packed_a, &packed_a_size, (size_t)row_block * inner_block);
    float *pb = scratch(&packed_b, &packed_b_size, (size_t)column_block * inner_block);
    if (!pa || !pb) abort();
    for (ptrdiff_t jc = 0; jc < n; jc += column_block) {
        ptrdiff_t nc = n - jc < column_block ? n - jc : column_block;
        for (ptrdiff_t pc = 0; pc < k; pc += inner_block) {
            ptrdiff_t kc = k - pc < inner_block ? k - pc : inner_block;
            int from_bias = bias && pc == 0;  // the first block starts from the bias row, the others from C
            tile_start start = pc > 0 || bias ? start_c : beta == 0 ? start_zero : beta == 1 ? start_c : start_scaled_c;
            if (m <= row_block) {  // one block of rows: each panel of B is packed just before its tiles
                pack_a(a, lda, transpose_a, 0, m, pc, kc, mr, pa);
                for (ptrdiff_t jr = 0; jr < nc; jr += nr) {
                    ptrdiff_t width = nc - jr < nr ? nc - jr : nr;
                    pack_b(b, ldb, transpose_b, pc, kc, jc + jr, width, nr, pb);
                    for (ptrdiff_t ir = 0; ir < m; ir += mr) {
                        ptrdiff_t height = m - ir < mr ? m - ir : mr;
                        float *tile = c + ir * ldc + jc + jr;
                        run_tile(kernel, narrow, mr, nr, kc, pa + ir * kc, pb, tile, ldc, height, width, start,
                                 beta, from_bias ? bias + jc + jr : tile, from_bias ? 0 : ldc);
                    }
                }
                continue;
            }
            pack_b(b, ldb, transpose_b, pc, kc, jc, nc, nr, pb);
            for (ptrdiff_t ic = 0; ic < m; ic += row_block) {
                ptrdiff_t mc = m - ic < row_block ? m - ic : row_block;
                pack_a(a, lda, transpose_a, ic, mc, pc, kc, mr, pa);
                for (ptrdiff_t jr = 0; jr < nc; jr += nr) {
                    ptrdiff_t width = nc - jr < nr ? nc - jr : nr;
                    for (ptrdiff_t ir = 0; ir < mc; ir += mr) {
                        ptrdiff_t height = mc - ir < mr ? mc - ir : mr;
                        float *tile = c + (ic + ir) * ldc + jc + jr;
                        run_tile(kernel, narrow, mr, nr, kc, pa + ir * kc, pb + jr * kc, tile, ldc, height, width, start,
                                 beta, from_bias ? bias + jc + jr : tile, from_bias ? 0 : ldc);
                    }
                }
            }
        }
    }
}

/// Scratch for the block of C's rows a row-block product hands out, one per thread.
static _Thread_local float *row_block_c;
static _Thread_local size_t row_block_c_size;

/// Claims the next chunk of n columns (or rows) for one of `threads` threads sharing them:
/// `*claimed` holds how many units of `width` have been claimed from the left (low 32 bits) and
/// from the right (high 32 bits), 0 to start. Side 0 claims from the left and every
/// other side from the right, so that with two threads each keeps one run of memory and they
/// meet where the faster one got to. A claim is what is left over twice the threads, in whole
/// units, at least one and at most `most` units (0: no bound): large chunks first, few claims,
/// single units last, so the threads finish close together however the host slows one. Units
/// start at multiples of `width` from the left (the last one may be short). False when none is left.
static int claim_units(uint64_t *claimed, ptrdiff_t n, ptrdiff_t width, ptrdiff_t threads, ptrdiff_t side,
                         ptrdiff_t most, ptrdiff_t *j0, ptrdiff_t *j1) {
    uint64_t word = __atomic_load_n(claimed, __ATOMIC_RELAXED), next;
    ptrdiff_t units = (n + width - 1) / width, left, right, size;
    do {
        left = (ptrdiff_t)(word & 0xFFFFFFFFu);
        right = units - (ptrdiff_t)(word >> 32);
        if (left >= right) return 0;
        size = (right - left) / (2 * threads);
        if (size < 1) size = 1;
        if (most > 0 && size > most) size = most;
        next = side == 0 ? word + (uint64_t)size : word + ((uint64_t)size << 32);
    } while (!__atomic_compare_exchange_n(claimed, &word, next, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    ptrdiff_t first = side == 0 ? left : right - size;
    *j0 = first * width;
    *j1 = (first + size) * width < n ? (first + size) * width : n;
    return 1;
}

/// C = op(A₁)·op(B₁) + op(A₂)·op(B₂) + … (`count` terms, each of C's shape) one block of rows at a
/// time into a small scratch, each block handed to `done` while it is in cache and then
/// overwritten: every op(B) packed once, C never stored whole. The blocks are claimed from
/// `claimed` by this thread (`side` of `threads`) until none is left, as `claim_units` claims
/// columns, in panels of `mr` rows and at most a `row_block`; the op(B)s are packed after the
/// first claim. Needs each op(B) within one packed block (n ≤ column_block, k ≤ inner_block).
/// The first term's tiles go straight into the block; each later term's tile is computed into a
/// local tile and added to the block's, element by element: every element is the chain
/// `gemm_blocked` makes for each term, the terms' results added in order, so the bits of the
/// products computed whole and summed one after another.
static inline __attribute__((always_inline)) void gemm_row_blocks(tile_kernel kernel, tile_kernel narrow, int mr, int nr,
                                                                  ptrdiff_t m, ptrdiff_t n, const product_term *terms,
                                                                  int count, row_block_done done, void *context,
                                                                  uint64_t *claimed, ptrdiff_t threads, ptrdiff_t side) {
    ptrdiff_t ic, end;
    if (!claim_units(claimed, m, mr, threads, side, row_block / mr, &ic, &end)) return;
    ptrdiff_t n_pad = (n + nr - 1) / nr * nr, offsets[max_product_terms], packed = 0;
    for (int t = 0; t < count; t++) {
        offsets[t] = packed;
        packed += n_pad * terms[t].k;
    }
    float *pa = scratch(&packed_a, &packed_a_size, (size_t)row_block * inner_block);
    float *pb = scratch(&packed_b, &packed_b_size, (size_t)packed);
    float *block = scratch(&row_block_c, &row_block_c_size, (size_t)(row_block * n));
    if (!pa || !pb || !block) abort();
    for (int t = 0; t < count; t++) pack_b(terms[t].b, terms[t].ldb, terms[t].transpose_b, 0, terms[t].k, 0, n, nr, pb + offsets[t]);
    float local[16 * 32] __attribute__((aligned(64)));
    do {
        ptrdiff_t mc = end - ic;
        for (int t = 0; t < count; t++) {
            ptrdiff_t k = terms[t].k;
            const float *pbt = pb + offsets[t];
            pack_a(terms[t].a, terms[t].lda, terms[t].transpose_a, ic, mc, 0, k, mr, pa);
            for (ptrdiff_t jr = 0; jr < n; jr += nr) {
                ptrdiff_t width = n - jr < nr ? n - jr : nr;
                for (ptrdiff_t ir = 0; ir < mc; ir += mr) {
                    ptrdiff_t height = mc - ir < mr ? mc - ir : mr;
                    float *tile = block + ir * n + jr;
                    if (t == 0) {
                        run_tile(kernel, narrow, mr, nr, k, pa + ir * k, pbt + jr * k, tile, n, height, width, start_zero, 0,
                                 tile, n);
                        continue;
                    }
                    run_tile(kernel, narrow, mr, nr, k, pa + ir * k, pbt + jr * k, local, nr, height, width, start_zero, 0,
                             local, nr);
                    for (ptrdiff_t r = 0; r < height; r++)
                        for (ptrdiff_t j = 0; j < width; j++) tile[r * n + j] += local[r * nr + j];
                }
            }
        }
        done(context, ic, mc, block);
    } while (claim_units(claimed, m, mr, threads, side, row_block / mr, &ic, &end));
}

int gemm_fixed_order_row_blocks(fixed_order_isa isa, ptrdiff_t m, ptrdiff_t n, const product_term *terms, int count,
                                row_block_done done, void *context, uint64_t *claimed, ptrdiff_t threads,
                                ptrdiff_t side) {
    if (m <= 0 || n <= 0 || n > column_block || count < 1 || count > max_product_terms) return 0;
    for (int t = 0; t < count; t++)
        if (terms[t].k <= 0 || terms[t].k > inner_block) return 0;
    switch (isa) {
#if defined(__x86_64__)
    case fixed_order_avx512:
        gemm_row_blocks(tile_avx512, tile_avx512_narrow, AVX512_MR, AVX512_NR, m, n, terms, count, done, context, claimed,
                        threads, side);
        return 1;
    case fixed_order_avx2:
        gemm_row_blocks(tile_avx2, tile_avx2_narrow, AVX2_MR, AVX2_NR, m, n, terms, count, done, context, claimed, threads,
                        side);
        return 1;
#endif
    default:
        return 0;
    }
}

#if defined(__x86_64__)
/// Scratch for op(B)'s rows when a small product copies them, one per thread.
static _Thread_local float *small_b;
static _Thread_local size_t small_b_size;

/// A small product straight from A and B (see "Small products"), on `table[rows − 1][vectors − 1]`
/// tiles of up to `max_rows` rows and `max_vectors` vectors of `lanes` floats. A product a few
/// columns wide runs as its transpose, Cᵀ = op(B)ᵀ·op(A)ᵀ (a·b and b·a round alike), so that the
/// vectors run along C's long side: Cᵀ whole into a scratch and one transpose into C (a tile at a
/// time through a local tile, each written back element by element, took mlp-quadratic's step
/// 4 % longer), or, when C's own elements start the chains (beta not 0, no bias), a tile at a time.
static inline __attribute__((always_inline)) void gemm_small(const small_kernel *table, int max_rows, int max_vectors,
                                                             int lanes, int transpose_a, int transpose_b, ptrdiff_t m,
                                                             ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                                                             const float *b, ptrdiff_t ldb, float beta,
                                                             const float *bias, float *c, ptrdiff_t ldc) {
    int flip = n < lanes && m >= 2 * n;
    ptrdiff_t rows_total = flip ? n : m, columns_total = flip ? m : n;
    // The computed product's left operand, element (i, p) at left[i·left_row + p·left_step].
    const float *left = flip ? b : a;
    int left_transposed = flip ? !transpose_b : transpose_a;
    ptrdiff_t left_ld = flip ? ldb : lda;
    ptrdiff_t left_row = left_transposed ? 1 : left_ld, left_step = left_transposed ? left_ld : 1;
    // Its right operand's row p, in place when contiguous and whole vectors wide, else copied.
    const float *right = flip ? a : b;
    ptrdiff_t right_ld = flip ? lda : ldb;
    int right_rows_contiguous = flip ? transpose_a : !transpose_b;
    if (!right_rows_contiguous || columns_total % lanes != 0) {
        ptrdiff_t width = (columns_total + lanes - 1) / lanes * lanes;
        float *copy = scratch(&small_b, &small_b_size, (size_t)(k * width));
        if (!copy) abort();
        if (width > columns_total) memset(copy, 0, (size_t)(k * width) * sizeof(float));  // the padding
        if (right_rows_contiguous) {
            for (ptrdiff_t p = 0; p < k; p++)
                for (ptrdiff_t j = 0; j < columns_total; j++) copy[p * width + j] = right[p * right_ld + j];
        } else {
            transpose(right, right_ld, columns_total, k, copy, width);
        }
        right = copy;
        right_ld = width;
    }
    tile_start start = beta == 0 && !bias ? start_zero : beta == 1 || bias ? start_c : start_scaled_c;
    ptrdiff_t tile_width = (ptrdiff_t)max_vectors * lanes;
    if (flip && (bias || beta == 0)) {
        // Cᵀ whole into a scratch of whole tiles (every tile written straight, whole vectors wide,
        // each row started from its bias element repeated along a tile's row), then one transpose into C.
        ptrdiff_t t_ld = (columns_total + tile_width - 1) / tile_width * tile_width;
        float *t = scratch(&transposed_c, &transposed_c_size, (size_t)(rows_total * (t_ld + tile_width)));
        if (!t) abort();
        float *starts = t + rows_total * t_ld;
        if (bias)
            for (ptrdiff_t r = 0; r < rows_total; r++)
                for (ptrdiff_t j = 0; j < tile_width; j++) starts[r * tile_width + j] = bias[r];
        for (ptrdiff_t j0 = 0; j0 < columns_total; j0 += tile_width) {
            ptrdiff_t width = columns_total - j0 < tile_width ? columns_total - j0 : tile_width;
            int vectors = (int)((width + lanes - 1) / lanes);
            for (ptrdiff_t i0 = 0; i0 < rows_total; i0 += max_rows) {
                int rows = rows_total - i0 < max_rows ? (int)(rows_total - i0) : max_rows;
                small_operands o = {left + i0 * left_row, left_row, left_step, right + j0, right_ld,
                                    starts + i0 * tile_width, tile_width, NULL};
                table[(rows - 1) * max_vectors + vectors - 1](k, &o, t + i0 * t_ld + j0, t_ld, start, beta, 1);
            }
        }
        transpose(t, t_ld, rows_total, columns_total, c, ldc);
        return;
    }
    for (ptrdiff_t j0 = 0; j0 < columns_total; j0 += tile_width) {
        ptrdiff_t width = columns_total - j0 < tile_width ? columns_total - j0 : tile_width;
        int vectors = (int)((width + lanes - 1) / lanes);
        small_operands o = {left, left_row, left_step, right + j0, right_ld, bias ? bias + j0 : c + j0, bias ? 0 : ldc, NULL};
        ptrdiff_t i0 = 0;
        if (!flip && width == (ptrdiff_t)vectors * lanes) {  // straight into C, all whole tiles in one call
            ptrdiff_t tiles = rows_total / max_rows;
            if (tiles > 0) table[(max_rows - 1) * max_vectors + vectors - 1](k, &o, c + j0, ldc, start, beta, tiles);
            i0 = tiles * max_rows;
            if (i0 < rows_total) {
                o.a = left + i0 * left_row;
                o.s = bias ? bias + j0 : c + i0 * ldc + j0;
                table[(rows_total - i0 - 1) * max_vectors + vectors - 1](k, &o, c + i0 * ldc + j0, ldc, start, beta, 1);
            }
            continue;
        }
        // Through a local tile: C's part of it, or the bias's (transposed when the product is), zeros elsewhere.
        for (; i0 < rows_total; i0 += max_rows) {
            int rows = rows_total - i0 < max_rows ? (int)(rows_total - i0) : max_rows;
            float local[16 * 32] __attribute__((aligned(64)));
            if (start != start_zero) {  // a tile started from zero reads nothing of it
                for (int r = 0; r < rows; r++) {
                    for (ptrdiff_t j = 0; j < tile_width; j++) {
                        const float *element = bias ? bias + (flip ? i0 + r : j0 + j)
                                             : flip ? c + (j0 + j) * ldc + i0 + r : c + (i0 + r) * ldc + j0 + j;
                        local[r * tile_width + j] = j < width ? *element : 0;
                    }
                }
            }
            o.a = left + i0 * left_row;
            o.s = local;
            o.lds = tile_width;
            table[(rows - 1) * max_vectors + vectors - 1](k, &o, local, tile_width, start, beta, 1);
            if (flip) {  // C's row j0 + j holds the tile's column j: its `rows` elements lie side by side
                for (ptrdiff_t j = 0; j < width; j++)
                    for (int r = 0; r < rows; r++) c[(j0 + j) * ldc + i0 + r] = local[r * tile_width + j];
            } else {
                for (int r = 0; r < rows; r++)
                    memcpy(c + (i0 + r) * ldc + j0, local + r * tile_width, (size_t)width * sizeof(float));
            }
        }
    }
}

/// Aᵀ copied into whole vectors for `broadcast_columns_of_c`: k rows of `width` (m rounded up to
/// whole vectors), zero past m.
static float *broadcast_copy(int lanes, ptrdiff_t m, ptrdiff_t k, const float *a, ptrdiff_t lda, ptrdiff_t *width) {
    *width = (m + lanes - 1) / lanes * lanes;
    float *copy = scratch(&small_b, &small_b_size, (size_t)(k * *width));
    if (!copy) abort();
    transpose(a, lda, m, k, copy, *width);
    if (*width > m)
        for (ptrdiff_t p = 0; p < k; p++)
            for (ptrdiff_t j = m; j < *width; j++) copy[p * *width + j] = 0;
    return copy;
}

/// Columns i_begin..<i_end of C (rows of op(B)ᵀ) of `gemm_broadcast_b`, from Aᵀ's copy.
static inline __attribute__((always_inline)) void broadcast_columns_of_c(const small_kernel *table, int max_rows,
                                                                         int max_vectors, int lanes, int transpose_b,
                                                                         ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                                                                         const float *copy, ptrdiff_t width,
                                                                         ptrdiff_t i_begin, ptrdiff_t i_end,
                                                                         const float *b, ptrdiff_t ldb, float beta,
                                                                         const float *bias, float *c, ptrdiff_t ldc) {
    if (!transpose_b)  // the first tiles' line of every row of W (later ones are asked for a tile ahead)
        for (ptrdiff_t p = 0; p < k; p++) __builtin_prefetch(b + p * ldb + i_begin);
    tile_start start = beta == 0 && !bias ? start_zero : beta == 1 || bias ? start_c : start_scaled_c;
    ptrdiff_t tile_width = (ptrdiff_t)max_vectors * lanes;
    for (ptrdiff_t i0 = i_begin; i0 < i_end; i0 += max_rows) {
        int rows = i_end - i0 < max_rows ? (int)(i_end - i0) : max_rows;
        for (ptrdiff_t j0 = 0; j0 < m; j0 += tile_width) {
            ptrdiff_t columns = m - j0 < tile_width ? m - j0 : tile_width;
            int vectors = (int)((columns + lanes - 1) / lanes);
            float local[16 * 32] __attribute__((aligned(64)));
            if (start != start_zero)
                for (int r = 0; r < rows; r++)
                    for (ptrdiff_t j = 0; j < tile_width; j++)
                        local[r * tile_width + j] = j >= columns ? 0 : bias ? bias[i0 + r] : c[(j0 + j) * ldc + i0 + r];
            // op(B)ᵀ's element (i, p) is b[i·ldb + p] when B is transposed (W's rows, read along
            // them), b[p·ldb + i] when not (max_rows neighbours of W's row p a step). The first
            // column block asks for what a later tile reads (the next tile's rows; the line of
            // every row of W 16 columns on), the others find it in cache.
            const float *next = j0 > 0 ? NULL
                              : transpose_b ? (i0 + max_rows < n ? b + (i0 + max_rows) * ldb : NULL)
                                            : (i0 + 16 < n ? b + i0 + 16 : NULL);
            small_operands o = {transpose_b ? b + i0 * ldb : b + i0, transpose_b ? ldb : 1, transpose_b ? 1 : ldb,
                                copy + j0, width, local, tile_width, next};
            table[(rows - 1) * max_vectors + vectors - 1](k, &o, local, tile_width, start, beta, 1);
            transpose(local, tile_width, rows, columns, c + j0 * ldc + i0, ldc);
        }
    }
}

/// C = A·op(B) for a short A as its transpose, Cᵀ = op(B)ᵀ·Aᵀ: a Dense layer's x·Wᵀ at a small
/// batch (B = W transposed), or its input gradient g·W (B = W as it lies). B's elements (the
/// weight's) are broadcast from where they lie, row after row of op(B)ᵀ (W's rows, or `max_rows`
/// neighbours along W's columns), and Aᵀ is copied once into whole vectors; a tile of `max_rows`
/// of op(B)ᵀ's rows meets every column block of Aᵀ while those elements are in cache, and is
/// written back into C transposed. The large operand is never packed; every element is the same
/// chain (a·b and b·a round alike).
static inline __attribute__((always_inline)) void gemm_broadcast_b(const small_kernel *table, int max_rows,
                                                                   int max_vectors, int lanes, int transpose_b,
                                                                   ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                                                                   const float *a, ptrdiff_t lda, const float *b,
                                                                   ptrdiff_t ldb, float beta, const float *bias,
                                                                   float *c, ptrdiff_t ldc) {
    ptrdiff_t width;
    const float *copy = broadcast_copy(lanes, m, k, a, lda, &width);
    broadcast_columns_of_c(table, max_rows, max_vectors, lanes, transpose_b, m, n, k, copy, width, 0, n, b, ldb, beta,
                           bias, c, ldc);
}
#endif

/// The largest product (m·n·k multiply–adds) that runs as a small product.
enum { small_product = 1 << 17 };

/// Whether C = A·op(B) runs as `gemm_broadcast_b`: A short (at most `broadcast_rows` rows, a
/// whole number of vectors of `lanes`) and op(B) at least four times as wide, so that B is the
/// product's bulk. B as it lies only on AVX-512 and when its rows (ldb, whatever block of
/// columns this call computes) are at most `broadcast_columns` long: a tile then reads a piece of
/// every row of B, once for each column block of C, and where C has more than two blocks (AVX2's
/// 16-column tiles at 64 rows) or B's rows are long (an im2col matrix's) those pieces no longer
/// stay in cache between blocks. Measured on a Zen 4
/// EPYC, one thread, g·W at batch 64 for the MLP lessons' weights, cold caches: 0–17 % faster on
/// AVX-512 than packing W (the largest, 784 × 1024, 1.16 → 0.98 ms), and up to 33 % slower on AVX2.
enum { broadcast_rows = 64, broadcast_columns = 4096 };
static inline int broadcast_b(int transpose_a, int transpose_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t ldb, int lanes) {
    return !transpose_a && (transpose_b || (lanes == 16 && ldb <= broadcast_columns)) && m <= broadcast_rows &&
           m % lanes == 0 && n >= 4 * m;
}

/// Whether C = A·B (neither transposed) runs straight from A and B on AVX2 (`gemm_small`: A's
/// elements broadcast from where they lie, B's rows read in place) rather than packed: a layer's
/// input gradient g·W at a small batch, where packing A and W costs more than it saves. A tile's
/// strip of W (k rows of 16 columns) must stay in cache while every tile of rows meets it: k at
/// most 512 rows, whose lines fall in many cache sets only where W's rows are not a multiple of
/// 512 floats apart (at 512 or 1024 the strip's lines share a few sets and are evicted before
/// the next tile of rows reads them), A (read again for every strip) at most 128 KB, and C whole
/// vectors wide. Measured on a Zen 3 EPYC, one thread, warm caches, against the packed product:
/// 64 × 128 × 128 0.86, 128 × 128 × 128 0.92, 64 × 256 × 256 0.95, 64 × 512 × 784 (mlp-fashion's D)
/// 0.90; with W's rows 1,024 floats apart (784 × 1024) 1.32, 512 apart and 1,024 deep 1.34.
enum { in_place_depth = 512, in_place_a = 1 << 15, in_place_stride = 256 };
static inline int in_place_b(int transpose_a, int transpose_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, ptrdiff_t ldb) {
    return !transpose_a && !transpose_b && k <= in_place_depth && m * k <= in_place_a && n % 8 == 0 &&
           (ldb & -ldb) <= in_place_stride;
}

/// One element at a time with fmaf: the reference order, on any CPU (one FMA instruction where
/// the CPU has them, the C library's exact emulation otherwise: the same bits).
#if defined(__x86_64__) && defined(__clang__) && defined(__linux__)
__attribute__((target_clones("fma", "default")))
#endif
static void gemm_scalar(int transpose_a, int transpose_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                        const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb, float beta,
                        const float *bias, float *c, ptrdiff_t ldc) {
    for (ptrdiff_t i = 0; i < m; i++) {
        for (ptrdiff_t j = 0; j < n; j++) {
            float sum = bias ? bias[j] : beta == 0 ? 0 : beta == 1 ? c[i * ldc + j] : c[i * ldc + j] * beta;
            for (ptrdiff_t p = 0; p < k; p++)
                sum = fmaf(element(a, lda, transpose_a, i, p), element(b, ldb, transpose_b, p, j), sum);
            c[i * ldc + j] = sum;
        }
    }
}

/// A narrow product (a few columns, many rows) as its transpose, Cᵀ = op(B)ᵀ·op(A)ᵀ, so that the
/// vectors run along C's long side. Every element is the same chain: a·b and b·a round alike.
static inline __attribute__((always_inline)) void gemm_narrow(
    tile_kernel kernel, tile_kernel narrow, int mr, int nr, int transpose_a, int transpose_b, ptrdiff_t m,
    ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb, float beta,
    const float *bias, float *c, ptrdiff_t ldc) {
    float *t = scratch(&transposed_c, &transposed_c_size, (size_t)(m * n));
    if (!t) abort();
    if (bias) {  // Cᵀ's row j starts from bias[j]
        for (ptrdiff_t j = 0; j < n; j++)
            for (ptrdiff_t i = 0; i < m; i++) t[j * m + i] = bias[j];
        beta = 1;
    } else if (beta != 0) {
        transpose(c, ldc, m, n, t, m);
    }
    gemm_blocked(kernel, narrow, mr, nr, !transpose_b, !transpose_a, n, m, k, b, ldb, a, lda, beta, NULL, t, m);
    transpose(t, m, n, m, c, ldc);
}

void gemm_fixed_order(fixed_order_isa isa, int transpose_a, int transpose_b, ptrdiff_t m, ptrdiff_t n,
                      ptrdiff_t k, const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb, float beta,
                      const float *bias, float *c, ptrdiff_t ldc) {
    if (m <= 0 || n <= 0) return;
    switch (k > 0 ? isa : fixed_order_scalar) {
#if defined(__x86_64__)
    case fixed_order_avx512:
        if (m * n * k > small_product && broadcast_b(transpose_a, transpose_b, m, n, ldb, 16))
            gemm_broadcast_b(&small_avx512[0][0], SMALL_AVX512_ROWS, SMALL_AVX512_VECTORS, 16, transpose_b, m, n, k,
                             a, lda, b, ldb, beta, bias, c, ldc);
        else if (m * n * k <= small_product)
            gemm_small(&small_avx512[0][0], SMALL_AVX512_ROWS, SMALL_AVX512_VECTORS, 16, transpose_a, transpose_b, m,
                       n, k, a, lda, b, ldb, beta, bias, c, ldc);
        else if (2 * n < AVX512_NR && m >= 2 * n)
            gemm_narrow(tile_avx512, tile_avx512_narrow, AVX512_MR, AVX512_NR, transpose_a, transpose_b, m, n, k,
                        a, lda, b, ldb, beta, bias, c, ldc);
        else
            gemm_blocked(tile_avx512, tile_avx512_narrow, AVX512_MR, AVX512_NR, transpose_a, transpose_b, m, n, k,
                         a, lda, b, ldb, beta, bias, c, ldc);
        return;
    case fixed_order_avx2:
        if (m * n * k > small_product && broadcast_b(transpose_a, transpose_b, m, n, ldb, 8))
            gemm_broadcast_b(&small_avx2[0][0], SMALL_AVX2_ROWS, SMALL_AVX2_VECTORS, 8, transpose_b, m, n, k, a, lda,
                             b, ldb, beta, bias, c, ldc);
        else if (m * n * k <= small_product || in_place_b(transpose_a, transpose_b, m, n, k, ldb))
            gemm_small(&small_avx2[0][0], SMALL_AVX2_ROWS, SMALL_AVX2_VECTORS, 8, transpose_a, transpose_b, m, n, k, a,
                       lda, b, ldb, beta, bias, c, ldc);
        else if (2 * n < AVX2_NR && m >= 2 * n)
            gemm_narrow(tile_avx2, tile_avx2_narrow, AVX2_MR, AVX2_NR, transpose_a, transpose_b, m, n, k, a, lda,
                        b, ldb, beta, bias, c, ldc);
        else
            gemm_blocked(tile_avx2, tile_avx2_narrow, AVX2_MR, AVX2_NR, transpose_a, transpose_b, m, n, k, a, lda,
                         b, ldb, beta, bias, c, ldc);
        return;
#endif
    default:
        gemm_scalar(transpose_a, transpose_b, m, n, k, a, lda, b, ldb, beta, bias, c, ldc);
    }
}

// MARK: A product in column chunks

#if defined(__x86_64__)
/// op(A) packed for every inner block at once, as `gemm_blocked` packs it one block at a time:
/// block pc at pa + pc·m_pad, m_pad = m rounded up to whole panels.
static inline __attribute__((always_inline)) void pack_a_whole(const float *a, ptrdiff_t lda, int transposed,
                                                               ptrdiff_t m, ptrdiff_t k, int mr, float *pa) {
    ptrdiff_t m_pad = (m + mr - 1) / mr * mr;
    for (ptrdiff_t pc = 0; pc < k; pc += inner_block)
        pack_a(a, lda, transposed, 0, m, pc, k - pc < inner_block ? k - pc : inner_block, mr, pa + pc * m_pad);
}

/// Columns j_begin..<j_end of `gemm_blocked`'s product from op(A) packed whole (`pack_a_whole`):
/// the same tiles, each element the same chain of inner blocks in order.
static inline __attribute__((always_inline)) void blocked_columns_of_c(tile_kernel kernel, tile_kernel narrow, int mr,
                                                                       int nr, int transpose_b, ptrdiff_t m, ptrdiff_t k,
                                                                       const float *pa, const float *b, ptrdiff_t ldb,
                                                                       float beta, const float *bias, float *c,
                                                                       ptrdiff_t ldc, ptrdiff_t j_begin, ptrdiff_t j_end,
                                                                       float *pb) {
    ptrdiff_t m_pad = (m + mr - 1) / mr * mr;
    for (ptrdiff_t pc = 0; pc < k; pc += inner_block) {
        ptrdiff_t kc = k - pc < inner_block ? k - pc : inner_block;
        int from_bias = bias && pc == 0;  // the first block starts from the bias row, the others from C
        tile_start start = pc > 0 || bias ? start_c : beta == 0 ? start_zero : beta == 1 ? start_c : start_scaled_c;
        for (ptrdiff_t jr = j_begin; jr < j_end; jr += nr) {
            ptrdiff_t width = j_end - jr < nr ? j_end - jr : nr;
            pack_b(b, ldb, transpose_b, pc, kc, jr, width, nr, pb);
            for (ptrdiff_t ir = 0; ir < m; ir += mr) {
                ptrdiff_t height = m - ir < mr ? m - ir : mr;
                float *tile = c + ir * ldc + jr;
                run_tile(kernel, narrow, mr, nr, kc, pa + pc * m_pad + ir * kc, pb, tile, ldc, height, width, start,
                         beta, from_bias ? bias + jr : tile, from_bias ? 0 : ldc);
            }
        }
    }
}
#endif

/// How `gemm_fixed_order_chunks` runs a product: not at all, W broadcast (`gemm_broadcast_b`),
/// blocked from op(A) packed whole, or straight from A and B (`in_place_b`, nothing packed).
typedef enum { chunks_none = 0, chunks_broadcast = 1, chunks_blocked = 2, chunks_in_place = 3 } chunk_path;

static chunk_path chunks_path(fixed_order_isa isa, int transpose_a, int transpose_b, ptrdiff_t m, ptrdiff_t n,
                              ptrdiff_t k, ptrdiff_t ldb) {
    if (isa != fixed_order_avx2 && isa != fixed_order_avx512) return chunks_none;
    if (m <= 0 || n <= 0 || k <= 0 || m * n * k <= small_product) return chunks_none;
    int lanes = isa == fixed_order_avx512 ? 16 : 8, nr = isa == fixed_order_avx512 ? 32 : 16;
    if (broadcast_b(transpose_a, transpose_b, m, n, ldb, lanes)) return chunks_broadcast;
    if (isa == fixed_order_avx2 && in_place_b(transpose_a, transpose_b, m, n, k, ldb)) return chunks_in_place;
    if (2 * n < nr && m >= 2 * n) return chunks_none;  // narrow: run as its transpose
    // One block of rows, so that op(A) packed whole stays in cache. Past it, `gemm_blocked` packs a
    // block of B's columns and meets it with op(A) a block of rows at a time (chunks packing A
    // whole measured 2–5 % slower on mlp-fashion's step, for D's first weight gradient, 512 × 784 × 64).
    return m <= row_block ? chunks_blocked : chunks_none;
}

ptrdiff_t gemm_fixed_order_chunk_width(fixed_order_isa isa, int transpose_a, int transpose_b, ptrdiff_t m,
                                       ptrdiff_t n, ptrdiff_t k, ptrdiff_t ldb) {
    switch (chunks_path(isa, transpose_a, transpose_b, m, n, k, ldb)) {
#if defined(__x86_64__)
    case chunks_broadcast: return isa == fixed_order_avx512 ? SMALL_AVX512_ROWS : SMALL_AVX2_ROWS;  // a tile's rows of W
    case chunks_blocked: return isa == fixed_order_avx512 ? AVX512_NR : AVX2_NR;  // a packed panel
    case chunks_in_place: return SMALL_AVX2_VECTORS * 8;  // a tile's columns
#endif
    default: return 0;
    }
}

void gemm_fixed_order_chunks(fixed_order_isa isa, int transpose_a, int transpose_b, ptrdiff_t m, ptrdiff_t n,
                             ptrdiff_t k, const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb, float beta,
                             const float *bias, float *c, ptrdiff_t ldc, uint64_t *claimed, ptrdiff_t threads,
                             ptrdiff_t side) {
#if defined(__x86_64__)
    chunk_path path = chunks_path(isa, transpose_a, transpose_b, m, n, k, ldb);
    ptrdiff_t width = gemm_fixed_order_chunk_width(isa, transpose_a, transpose_b, m, n, k, ldb), j0, j1;
    if (path == chunks_none || !claim_units(claimed, n, width, threads, side, 0, &j0, &j1)) return;  // nothing packed
    int avx512 = isa == fixed_order_avx512, lanes = avx512 ? 16 : 8, mr = avx512 ? AVX512_MR : AVX2_MR;
    const float *packed = NULL;
    ptrdiff_t copy_width = 0;
    float *pb = NULL;
    if (path == chunks_broadcast) {
        packed = broadcast_copy(lanes, m, k, a, lda, &copy_width);
    } else if (path == chunks_blocked) {
        float *pa = scratch(&packed_a, &packed_a_size, (size_t)((m + mr - 1) / mr * mr * k));
        pb = scratch(&packed_b, &packed_b_size, (size_t)column_block * inner_block);
        if (!pa || !pb) abort();
        pack_a_whole(a, lda, transpose_a, m, k, mr, pa);
        packed = pa;
    }
    do {
        if (path == chunks_in_place) {
            gemm_small(&small_avx2[0][0], SMALL_AVX2_ROWS, SMALL_AVX2_VECTORS, 8, 0, 0, m, j1 - j0, k, a, lda, b + j0, ldb,
                       beta, bias ? bias + j0 : NULL, c + j0, ldc);
        } else if (path == chunks_broadcast) {
            if (avx512)
                broadcast_columns_of_c(&small_avx512[0][0], SMALL_AVX512_ROWS, SMALL_AVX512_VECTORS, 16, transpose_b, m,
                                       n, k, packed, copy_width, j0, j1, b, ldb, beta, bias, c, ldc);
            else
                broadcast_columns_of_c(&small_avx2[0][0], SMALL_AVX2_ROWS, SMALL_AVX2_VECTORS, 8, transpose_b, m, n, k,
                                       packed, copy_width, j0, j1, b, ldb, beta, bias, c, ldc);
        } else if (avx512) {
            blocked_columns_of_c(tile_avx512, tile_avx512_narrow, AVX512_MR, AVX512_NR, transpose_b, m, k, packed, b, ldb,
                                 beta, bias, c, ldc, j0, j1, pb);
        } else {
            blocked_columns_of_c(tile_avx2, tile_avx2_narrow, AVX2_MR, AVX2_NR, transpose_b, m, k, packed, b, ldb, beta,
                                 bias, c, ldc, j0, j1, pb);
        }
    } while (claim_units(claimed, n, width, threads, side, 0, &j0, &j1));
#else
    (void)isa; (void)transpose_a; (void)transpose_b; (void)m; (void)n; (void)k; (void)a; (void)lda; (void)b; (void)ldb;
    (void)beta; (void)bias; (void)c; (void)ldc; (void)claimed; (void)threads; (void)side;
#endif
}
