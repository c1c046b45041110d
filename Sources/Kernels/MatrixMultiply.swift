import CMicroKernels
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// C = op(A)·op(B) for row-major matrices, op = transpose when asked:
/// A is [m, k] (or [k, m] transposed), B is [k, n] (or [n, k] transposed).
/// Rank-3 operands [batch, ·, ·] multiply matrix by matrix along the batch.
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
    if a.rank == 3 || b.rank == 3 { return batchedMatmul(a, b, transposeA: transposeA, transposeB: transposeB) }
    let (m, k, n) = matmulSizes(a, transposeA, b, transposeB)
    var c = Tensor(uninitializedShape: [m, n])
    c.withUnsafeMutableBufferPointer { cb in
        gemm(transposeA, transposeB, m, n, k, a.storage.pointer, b.storage.pointer, 0, cb.baseAddress!)
    }
    return c
}

/// The naive triple loop beside `matmul`, the reference the tests compare it with.
public func matmulNaive(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
    let (m, k, n) = matmulSizes(a, transposeA, b, transposeB)
    var c = Tensor(shape: [m, n])
    c.withUnsafeMutableBufferPointer { cb in
        a.withUnsafeBufferPointer { ab in
            b.withUnsafeBufferPointer { bb in
                for i in 0..<m {
                    for j in 0..<n {
                        var acc: Double = 0
                        for p in 0..<k {
                            let x = transposeA ? ab[p * m + i] : ab[i * k + p]
                            let y = transposeB ? bb[j * k + p] : bb[p * n + j]
                            acc += Double(x) * Double(y)
                        }
                        cb[i * n + j] = Float(acc)
                    }
                }
            }
        }
    }
    return c
}

func batchedMatmul(_ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool) -> Tensor {
    precondition(a.rank == 3 && b.rank == 3 && a.shape[0] == b.shape[0], "batched matmul needs [b, ·, ·] operands, got \(a.shape) and \(b.shape)")
    let batch = a.shape[0]
    let (m, k, n) = matmulSizes(a.reshaped(to: Array(a.shape.dropFirst())), transposeA,
                                b.reshaped(to: Array(b.shape.dropFirst())), transposeB)
    var c = Tensor(uninitializedShape: [batch, m, n])
    c.withUnsafeMutableBufferPointer { cb in
        for i in 0..<batch {
            gemm(transposeA, transposeB, m, n, k, a.storage.pointer + i * m * k, b.storage.pointer + i * k * n,
                 0, cb.baseAddress! + i * m * n)
        }
    }
    return c
}

func matmulSizes(_ a: Tensor, _ transposeA: Bool, _ b: Tensor, _ transposeB: Bool) -> (Int, Int, Int) {
    precondition(a.rank == 2 && b.rank == 2, "matmul needs matrices, got \(a.shape) and \(b.shape)")
    let (m, k) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
    let (k2, n) = transposeB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
    precondition(k == k2, "matmul inner sizes differ: \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "")")
    return (m, k, n)
}

/// Row-major SGEMM: C = op(A)·op(B) + beta·C, or with a `bias` [n] C = op(A)·op(B) + bias on every
/// row (beta ignored; the bits of filling C's rows with the bias and passing beta 1), on the
/// kernels `setProductKernels` chose: the portable fixed-order kernels (which start each element
/// from its bias, C untouched before), or OpenBLAS on one thread per call.
///
/// The lab runs its own threads: a product of at least `threadedProductSize` multiply–adds is
/// cut into `loopThreads` blocks of C's rows, one single-threaded call each. The portable
/// kernels compute every element the same way in any block; OpenBLAS does so provided the
/// blocks start at multiples of `rowBlock` rows (its AVX2 kernels round some elements
/// differently at other cuts, and at any cut of the columns). Either way the numbers do not
/// depend on the thread count (tested). OpenBLAS's own threads stay asleep: they would spin
/// between products and take a core from the lab's other loops.
@inline(__always)
public func gemm(_ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int,
                 _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                 _ beta: Float, _ c: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>? = nil) {
    if m == 0 || n == 0 { return }
    if k == 0 {
        for i in 0..<(m * n) { c[i] = bias.map { $0[i % n] } ?? (beta == 0 ? 0 : beta * c[i]) }
        return
    }
    let operands = GEMMOperands(kernels: activeProductKernels, transposeA: transposeA, transposeB: transposeB, n: n, k: k, a: a, b: b,
                                beta: beta, bias: bias, c: SharedPointer(base: c), lda: transposeA ? m : k, ldb: transposeB ? k : n)
    let large = m * n * k >= threadedProductSize
    if operands.kernels == .portable && large && loopThreads > 1 && n > m {
        // The portable kernels give every element the same bits in any block, so a wide product
        // is cut into column blocks: each thread then packs only its own part of B. Where the C
        // kernels take it in chunks of columns, the threads claim chunks until none is left, so
        // that a thread the host slows takes fewer (halves fixed in advance left 480–810 µs of
        // waiting in each mlp-fashion step on a two-core Zen 3, the claims 180–230), one from each
        // end so that each keeps one run of memory; otherwise one block a thread.
        let chunkWidth = operands.chunkWidth(m: m)
        if chunkWidth > 0 {
            let threads = min(loopThreads, (n + chunkWidth - 1) / chunkWidth)
            var claimed: UInt64 = 0
            withUnsafeMutablePointer(to: &claimed) { claimed in
                let claimed = SharedPointer(base: claimed)
                parallelFor(threads) { side in operands.multiplyChunks(m: m, claimed: claimed, threads: threads, side: side) }
            }
            return
        }
        let parts = min(loopThreads, (n + 15) / 16)
        parallelFor(parts) { part in
            operands.multiply(rows: 0..<m, columns: n * part / parts / 16 * 16..<(part == parts - 1 ? n : n * (part + 1) / parts / 16 * 16))
        }
        return
    }
    let parts = large ? min(loopThreads, m / rowBlock) : 1
    if parts <= 1 {
        operands.multiply(rows: 0..<m)
        return
    }
    let bounds = (0...parts).map { min(m, (m * $0 / parts + rowBlock / 2) / rowBlock * rowBlock) }
    parallelFor(parts) { part in
        operands.multiply(rows: bounds[part]..<(part == parts - 1 ? m : bounds[part + 1]))
    }
}

/// Row blocks of a split product start at multiples of this: OpenBLAS's kernels (AVX2 and
/// AVX-512, measured) give every element the same bits whichever such block holds it.
let rowBlock = 12

/// The operands of one `gemm`, from which any block of C's rows can be computed.
struct GEMMOperands: @unchecked Sendable {
    let kernels: ProductKernels
    let transposeA: Bool, transposeB: Bool, n: Int, k: Int
    let a: UnsafePointer<Float>, b: UnsafePointer<Float>, beta: Float
    let bias: UnsafePointer<Float>?
    let c: SharedPointer<Float>
    let lda: Int, ldb: Int

    /// C[rows, :] = op(A)[rows, :]·op(B) + beta·C[rows, :].
    @inline(__always)
    func multiply(rows: Range<Int>) {
        if rows.isEmpty { return }
        let aRows = a + (transposeA ? rows.lowerBound : rows.lowerBound * lda)
        if kernels == .fastest, let blas = OpenBLAS.shared {
            if let bias {  // OpenBLAS starts from C: the bias goes there first
                for i in rows { for j in 0..<n { c.base[i * n + j] = bias[j] } }
            }
            blas.sgemm(rowMajor, transposeA ? transposed : notTransposed, transposeB ? transposed : notTransposed,
                       Int32(rows.count), Int32(n), Int32(k), 1, aRows, Int32(lda), b, Int32(ldb), bias == nil ? beta : 1,
                       c.base + rows.lowerBound * n, Int32(n))
        } else {
            multiply(rows: rows, columns: 0..<n)
        }
    }

    /// The unit of the column chunks the portable kernels take this product in, or 0.
    func chunkWidth(m: Int) -> Int {
        gemm_fixed_order_chunk_width(portableInstructionSet, transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, ldb)
    }

    /// C's column chunks on the portable kernels, claimed from `claimed` until none is left, by
    /// one of `threads` threads sharing the product (`side` 0 from the left, the others from the right).
    func multiplyChunks(m: Int, claimed: SharedPointer<UInt64>, threads: Int, side: Int) {
        gemm_fixed_order_chunks(portableInstructionSet, transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, a, lda, b, ldb,
                                beta, bias, c.base, n, claimed.base, threads, side)
    }

    /// C[rows, columns] on the portable kernels.
    @inline(__always)
    func multiply(rows: Range<Int>, columns: Range<Int>) {
        if rows.isEmpty || columns.isEmpty { return }
        let aRows = a + (transposeA ? rows.lowerBound : rows.lowerBound * lda)
        let bColumns = b + (transposeB ? columns.lowerBound * ldb : columns.lowerBound)
        gemm_fixed_order(portableInstructionSet, transposeA ? 1 : 0, transposeB ? 1 : 0, rows.count, columns.count, k,
                         aRows, lda, bColumns, ldb, beta, bias.map { $0 + columns.lowerBound },
                         c.base + rows.lowerBound * n + columns.lowerBound, n)
    }
}

/// The smallest product (m·n·k) that `gemm` spreads over more than one thread. Measured on two
/// idle cores: mlp-gaussian (64·256·256 products) 1.55 → 1.2 ms a step at 2^22 against 2^23,
/// mlp-fashion (8–51 M) 9.0–9.4 → 6.3 ms against 2^26; smaller thresholds gain nothing more.
/// With the other core busy the split costs mlp-gaussian 15–35 % (`--threads 1` avoids it).
let threadedProductSize = 1 << 22

/// CBLAS's constants (cblas.h): row-major storage, no transpose, transpose.
let (rowMajor, notTransposed, transposed): (Int32, Int32, Int32) = (101, 111, 112)

/// The number of threads the lab's matrix products and loops use now.
public func matrixThreads() -> Int { loopThreads }

/// Sets the number of threads the lab's matrix products and convolutions use. Products below
/// `threadedProductSize` multiply–adds run on one thread anyway (see `gemm`).
public func setMatrixThreads(_ count: Int) {
    loopThreads = max(1, count)
}

/// Returns to the start-up setting: one thread for products and loops.
public func resetMatrixThreads() {
    loopThreads = 1
}

/// The rate of `kernels` on square products of `size` on `threads` threads, in GFLOP/s (OpenBLAS
/// on its own threads; the portable kernels on the lab's row blocks): the median over `repeats`
/// products, after one untimed product.
public func measureProductRate(size: Int = 1024, threads: Int, kernels: ProductKernels = .fastest,
                               repeats: Int = 7) -> Double {
    let square = ProductShape(m: size, k: size, n: size)
    let milliseconds = measureProducts([square], threads: threads, kernels: kernels,
                                       threading: kernels == .fastest ? .openBLAS : .rowBlocks, repeats: repeats)
    return 2 * Double(square.multiplyAdds) / milliseconds / 1e6
}

/// One matrix product's sizes and transposes: C [m, n] = op(A)·op(B) with inner size k.
public struct ProductShape: Equatable {
    public let m: Int, k: Int, n: Int, transposeA: Bool, transposeB: Bool

    public init(m: Int, k: Int, n: Int, transposeA: Bool = false, transposeB: Bool = false) {
        (self.m, self.k, self.n, self.transposeA, self.transposeB) = (m, k, n, transposeA, transposeB)
    }

    public var multiplyAdds: Int { m * k * n }

    /// The product that gives A's gradient from C's, dA = dC·op(B)ᵀ with the transposes folded
    /// in as `matmul`'s pullback folds them (so dA has A's stored layout).
    public var gradientOfA: ProductShape {
        transposeA ? ProductShape(m: k, k: n, n: m, transposeA: transposeB, transposeB: true)
            : ProductShape(m: m, k: n, n: k, transposeB: !transposeB)
    }

    /// The product that gives B's gradient from C's, dB = op(A)ᵀ·dC, folded likewise.
    public var gradientOfB: ProductShape {
        transposeB ? ProductShape(m: n, k: m, n: k, transposeA: true, transposeB: transposeA)
            : ProductShape(m: k, k: m, n: n, transposeA: !transposeA)
    }
}

/// How `measureProducts` spreads a product over its threads.
public enum ProductThreading {
    /// One `cblas_sgemm` call on OpenBLAS's own threads (the portable kernels have none: row blocks).
    case openBLAS
    /// The lab's `gemm`: blocks of rows side by side, one single-threaded call each.
    case rowBlocks
}

/// The median milliseconds of running `products` once each, in order, on `kernels` and
/// `threads` threads spread as `threading` says, over `repeats` rounds after one untimed round:
/// the time those products alone take, with nothing around them. The products share one buffer
/// per operand, as large as the largest needs.
public func measureProducts(_ products: [ProductShape], threads: Int, kernels: ProductKernels = .fastest,
                            threading: ProductThreading = .openBLAS, repeats: Int = 100) -> Double {
    // Both go through `gemm`: with the lab on one thread it makes one call, on OpenBLAS's threads.
    let blas = kernels == .fastest ? OpenBLAS.shared : nil
    let onBLASThreads = blas != nil && threading == .openBLAS
    let savedLoopThreads = loopThreads
    blas?.setThreads(Int32(onBLASThreads ? threads : 1))
    loopThreads = onBLASThreads ? 1 : threads
    defer {
        blas?.setThreads(1)
        loopThreads = savedLoopThreads
    }
    var random = RandomSource(seed: 1)
    let a = Tensor.uniform(shape: [products.map { $0.m * $0.k }.max() ?? 1], low: -1, high: 1, using: &random)
    let b = Tensor.uniform(shape: [products.map { $0.k * $0.n }.max() ?? 1], low: -1, high: 1, using: &random)
    let c = Tensor(uninitializedShape: [products.map { $0.m * $0.n }.max() ?? 1])
    let (pa, pb, pc) = (a.storage.pointer, b.storage.pointer, c.storage.pointer)
    let times = withProductKernels(kernels) {
        (0...max(repeats, 1)).map { _ -> Double in
            let start = DispatchTime.now().uptimeNanoseconds
            for p in products { gemm(p.transposeA, p.transposeB, p.m, p.n, p.k, pa, pb, 0, pc) }
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        }
    }
    withExtendedLifetime((a, b, c)) {}  // the pointers point into their storage
    let sorted = times.dropFirst().sorted()
    return sorted[sorted.count / 2]
}

/// The environment variables that override OpenBLAS's own choices (kernel set, cache sizes),
/// as "NAME=value", sorted.
public func matrixEnvironmentOverrides() -> [String] {
    ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"].compactMap { (name: String) -> String? in
        getenv(name).map { "\(name)=\(String(cString: $0))" }
    }
}
