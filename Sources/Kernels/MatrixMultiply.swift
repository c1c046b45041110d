import CBLAS
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

/// Row-major SGEMM: C = op(A)·op(B) + beta·C, through OpenBLAS.
@inline(__always)
public func gemm(_ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int,
                 _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                 _ beta: Float, _ c: UnsafeMutablePointer<Float>) {
    if m == 0 || n == 0 { return }
    if k == 0 {
        for i in 0..<(m * n) { c[i] = beta == 0 ? 0 : beta * c[i] }
        return
    }
    // Products below `threadedProductSize` multiply–adds run on one thread: a second thread
    // gains nothing measurable on them here and loses several-fold when the cores are busy.
    let single = loopThreads > 1 && m * n * k < threadedProductSize
    if single { openblas_set_num_threads(1) }
    cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), 1, a, Int32(transposeA ? m : k),
                b, Int32(transposeB ? k : n), beta, c, Int32(n))
    if single { openblas_set_num_threads(Int32(loopThreads)) }
}

/// The smallest product (m·n·k) that `gemm` gives more than one thread.
let threadedProductSize = 1 << 26

/// The number of threads OpenBLAS uses now (its results can depend on it).
public func matrixThreads() -> Int { Int(openblas_get_num_threads()) }

/// Sets the number of threads OpenBLAS uses for matrix products, and the lab's own loops use
/// for im2col/col2im.
/// From then on, products below 2^26 multiply–adds also run on one thread (see `gemm`).
public func setMatrixThreads(_ count: Int) {
    _ = startupMatrixThreads
    openblas_set_num_threads(Int32(count))
    loopThreads = max(1, count)
}

/// Returns to the start-up settings: OpenBLAS's own thread count for every product, one
/// thread for the lab's loops. (Seeded results depend on these settings.)
public func resetMatrixThreads() {
    openblas_set_num_threads(Int32(startupMatrixThreads))
    loopThreads = 1
}

/// The kernel set OpenBLAS runs on this CPU ("Cooperlake", "Haswell", …). OpenBLAS picks it
/// from the CPU at start-up unless the environment's `OPENBLAS_CORETYPE` names one; AVX-512
/// kernels run GEMM about twice as fast as AVX2 ones on CPUs that have both.
public func matrixKernels() -> String { String(cString: openblas_get_corename()) }

/// The environment variables that override OpenBLAS's own choices (kernel set, cache sizes),
/// as "NAME=value", sorted.
public func matrixEnvironmentOverrides() -> [String] {
    ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"].compactMap { (name: String) -> String? in
        getenv(name).map { "\(name)=\(String(cString: $0))" }
    }
}

/// OpenBLAS's thread count before the lab first changed it.
let startupMatrixThreads = Int(openblas_get_num_threads())
