import CMicroKernels
import Kernels
import XCTest

final class MatrixMultiplyTests: XCTestCase {
    func testBothKernelSetsMatchNaiveOnOddShapes() {
        for kernels in ProductKernels.allCases {
            withProductKernels(kernels) { matchesNaiveOnOddShapes(kernels) }
        }
    }

    private func matchesNaiveOnOddShapes(_ kernels: ProductKernels) {
        var random = RandomSource(seed: 1)
        for (m, k, n) in [(1, 1, 1), (3, 5, 7), (17, 1, 9), (64, 33, 2), (2, 100, 257), (97, 300, 33)] {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let a = Tensor.uniform(shape: ta ? [k, m] : [m, k], low: -1, high: 1, using: &random)
                let b = Tensor.uniform(shape: tb ? [n, k] : [k, n], low: -1, high: 1, using: &random)
                let fast = matmul(a, b, transposeA: ta, transposeB: tb)
                let naive = matmulNaive(a, b, transposeA: ta, transposeB: tb)
                XCTAssertEqual(fast.shape, [m, n])
                for (x, y) in zip(fast.scalars, naive.scalars) {
                    XCTAssertEqual(x, y, accuracy: 1e-4 * Float(k), "\(kernels): m=\(m) k=\(k) n=\(n) ta=\(ta) tb=\(tb)")
                }
            }
        }
    }

    /// Large products are cut into blocks, one per thread: every element must come out bit for
    /// bit as from one call on one thread, with and without transposes and beta, on both kernel
    /// sets; and a bias start as from the bias filled into C with beta 1, on any number of threads.
    func testThreadCountDoesNotChangeAnyBit() {
        for kernels in ProductKernels.allCases {
            withProductKernels(kernels) { threadCountChangesNoBit(kernels) }
        }
    }

    private func threadCountChangesNoBit(_ kernels: ProductKernels) {
        var random = RandomSource(seed: 2)
        for (m, k, n) in [(64, 1024, 1024), (1001, 300, 301), (256, 100, 2600), (77, 4000, 250), (64, 256, 512)] {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let a = Tensor.uniform(shape: ta ? [k, m] : [m, k], low: -1, high: 1, using: &random)
                let b = Tensor.uniform(shape: tb ? [n, k] : [k, n], low: -1, high: 1, using: &random)
                let start = Tensor.uniform(shape: [m, n], low: -1, high: 1, using: &random)
                let bias = Tensor.uniform(shape: [n], low: -1, high: 1, using: &random)
                func product(threads: Int, withBias: Bool = false) -> [Float] {
                    setMatrixThreads(threads)
                    defer { resetMatrixThreads() }
                    var c = start
                    c.withUnsafeMutableBufferPointer { cb in
                        gemm(ta, tb, m, n, k, a.storage.pointer, b.storage.pointer, 0.5, cb.baseAddress!,
                             bias: withBias ? bias.storage.pointer : nil)
                    }
                    return c.scalars
                }
                let one = product(threads: 1)
                // A bias start is the bias filled into C's rows and beta 1.
                var filled = Tensor(shape: [m, n], scalars: (0..<m * n).map { bias[$0 % n] })
                filled.withUnsafeMutableBufferPointer { cb in
                    gemm(ta, tb, m, n, k, a.storage.pointer, b.storage.pointer, 1, cb.baseAddress!)
                }
                for threads in [1, 2, 3, 4] {
                    if threads > 1 {
                        let differing = zip(product(threads: threads), one).filter { $0 != $1 }.count
                        XCTAssertEqual(differing, 0, "\(kernels), \(threads) threads: m=\(m) k=\(k) n=\(n) ta=\(ta) tb=\(tb)")
                    }
                    let differing = zip(product(threads: threads, withBias: true), filled.scalars).filter { $0 != $1 }.count
                    XCTAssertEqual(differing, 0, "\(kernels) with a bias, \(threads) threads: m=\(m) k=\(k) n=\(n) ta=\(ta) tb=\(tb)")
                }
            }
        }
    }

    /// The portable kernels' promise: every element is fma(a[i,k-1], b[k-1,j], … fma(a[i,0], b[0,j],
    /// start)), with start 0, C, beta·C or bias[j], whatever the instruction set: checked bit for bit against
    /// that chain written out in Swift, on shapes that cross every block edge of the C kernels
    /// (rows past 96, inner sizes past 256, columns past 1024, partial tiles), and small products
    /// (run straight from A and B) of every kind: whole and partial tiles, and run as their transpose;
    /// short products x·Wᵀ and g·W (run as W·xᵀ and Wᵀ·gᵀ, W broadcast in place), with whole and
    /// partial tiles of W; and g·W straight from g and W (W's rows read in place, on AVX2) with
    /// partial tiles of rows and columns.
    func testPortableKernelsAreOneFixedOrderChainOnEveryInstructionSet() {
        let features = processorFeatures()
        let sets = [fixed_order_scalar] + (features.avx2FMA ? [fixed_order_avx2] : []) + (features.avx512 ? [fixed_order_avx512] : [])
        forEachProductCase([(1, 1, 1), (7, 3, 17), (13, 257, 33), (100, 513, 40), (9, 20, 1100), (64, 256, 256), (256, 16, 2), (300, 40, 7), (16, 256, 1), (19, 45, 53), (40, 17, 24), (37, 9, 48), (2, 64, 256), (1, 256, 2), (48, 300, 197), (16, 520, 70), (40, 136, 200)], seed: 3) { product in
            let (m, k, n, ta, tb, beta, withBias) = (product.m, product.k, product.n, product.ta, product.tb, product.beta, product.withBias)
            let (a, b, start, bias) = (product.a, product.b, product.start, product.bias)
            var chain = start
            for i in 0..<m {
                for j in 0..<n {
                    var sum: Float = withBias ? bias[j] : beta == 0 ? 0 : beta == 1 ? start[i * n + j] : start[i * n + j] * beta
                    for p in 0..<k {
                        sum = sum.addingProduct(ta ? a[p * m + i] : a[i * k + p], tb ? b[j * k + p] : b[p * n + j])
                    }
                    chain[i * n + j] = sum
                }
            }
            for set in sets {
                var c = start
                bias.withUnsafeBufferPointer { bias in
                    gemm_fixed_order(set, ta ? 1 : 0, tb ? 1 : 0, m, n, k, a, ta ? m : k, b, tb ? k : n, beta,
                                     withBias ? bias.baseAddress : nil, &c, n)
                }
                let differing = zip(c, chain).filter { $0.bitPattern != $1.bitPattern }.count
                XCTAssertEqual(differing, 0, "instruction set \(set.rawValue): m=\(m) k=\(k) n=\(n) ta=\(ta) tb=\(tb) beta=\(beta) bias=\(withBias)")
            }
        }
    }

    /// A product taken in column chunks (as threads claim them) is the bits of one call, chunk by
    /// chunk, on each of its paths (W broadcast for x·Wᵀ; blocked from op(A) packed whole, across
    /// inner blocks; g·W straight from g and W on AVX2) with ragged last chunks, beta and a bias,
    /// whatever the chunks' sizes, claimed from either end; columns already claimed are not touched.
    func testColumnChunksAreTheBitsOfOneCallOnEveryInstructionSet() {
        let features = processorFeatures()
        let sets = (features.avx2FMA ? [fixed_order_avx2] : []) + (features.avx512 ? [fixed_order_avx512] : [])
        var checked = 0
        forEachProductCase([(64, 300, 1000), (64, 256, 100), (40, 520, 333), (96, 257, 500), (8, 1000, 200), (64, 1024, 784), (40, 136, 200)], seed: 4) { product in
            let (m, k, n, ta, tb, beta, withBias) = (product.m, product.k, product.n, product.ta, product.tb, product.beta, product.withBias)
            let (a, b, start, bias) = (product.a, product.b, product.start, product.bias)
            let (lda, ldb) = (ta ? m : k, tb ? k : n)
            for set in sets {
                let width = gemm_fixed_order_chunk_width(set, ta ? 1 : 0, tb ? 1 : 0, m, n, k, ldb)
                guard width > 0 else { continue }
                var whole = start
                bias.withUnsafeBufferPointer { bias in
                    gemm_fixed_order(set, ta ? 1 : 0, tb ? 1 : 0, m, n, k, a, lda, b, ldb, beta,
                                     withBias ? bias.baseAddress : nil, &whole, n)
                }
                // (units taken from the left, from the right, threads, side): the taken columns stay as they were.
                let units = (n + width - 1) / width
                for (fromLeft, fromRight, threads, side) in [(0, 0, 1, 0), (0, 0, 2, 1), (1, 0, 3, 0), (0, 1, 2, 0), (1, 1, 2, 1)] {
                    var chunked = start
                    var claimed = UInt64(fromLeft) | UInt64(fromRight) << 32
                    bias.withUnsafeBufferPointer { bias in
                        gemm_fixed_order_chunks(set, ta ? 1 : 0, tb ? 1 : 0, m, n, k, a, lda, b, ldb, beta,
                                                withBias ? bias.baseAddress : nil, &chunked, n, &claimed, threads, side)
                    }
                    XCTAssertEqual(Int(claimed & 0xFFFF_FFFF) + Int(claimed >> 32), units, "every unit claimed once")
                    let taken = { (j: Int) in j < fromLeft * width || j >= (units - fromRight) * width }
                    let expected = (0..<m * n).map { taken($0 % n) ? start[$0] : whole[$0] }
                    let differing = zip(chunked, expected).filter { $0.bitPattern != $1.bitPattern }.count
                    XCTAssertEqual(differing, 0, "instruction set \(set.rawValue), taken \(fromLeft) + \(fromRight), side \(side) of \(threads): m=\(m) k=\(k) n=\(n) ta=\(ta) tb=\(tb) beta=\(beta) bias=\(withBias)")
                    checked += 1
                }
            }
        }
        if !sets.isEmpty { XCTAssertGreaterThan(checked, 250, "the chunked paths ran") }
    }

    /// The packing transpose moves every element to its place and touches nothing else, for
    /// every count of rows a register block can hold (the 6-row panels of AVX2's tiles included).
    func testTransposeMovesEveryElementAndNothingElse() {
        for rows in 1...17 {
            for columns in [1, 3, 8, 9, 16, 21] {
                let (lds, ldd) = (columns + 3, rows + 2)
                let source = (0..<(rows * lds)).map { Float($0) }
                var destination = [Float](repeating: -1, count: columns * ldd + 5)
                transpose_floats(source, lds, rows, columns, &destination, ldd)
                for index in destination.indices {
                    let (c, r) = (index / ldd, index % ldd)
                    let expected: Float = c < columns && r < rows ? source[r * lds + c] : -1
                    XCTAssertEqual(destination[index], expected, "rows \(rows), columns \(columns), element \(index)")
                }
            }
        }
    }

    /// The lab picks OpenBLAS's kernels from the instruction set CPUID reports, never a fallback.
    func testOpenBLASRunsKernelsForThisCPUsInstructionSet() throws {
        let report = matrixKernelReport()
        let features = processorFeatures()
        let expected = features.avx512 ? ["SkylakeX"] : features.avx2FMA ? ["Haswell"] : []
        if ProcessInfo.processInfo.environment["GAN_LAB_OPENBLAS_CORETYPE"] == nil, !expected.isEmpty {
            XCTAssertTrue(expected.contains(report.openBLAS ?? "none"), "\(report.openBLAS ?? "none") on \(report.instructionSet)")
            XCTAssertNil(report.warning)
        }
        XCTAssertEqual(report.instructionSet, features.avx512 ? "AVX-512" : features.avx2FMA ? "AVX2+FMA" : "SSE2")
        XCTAssertFalse(report.openBLASReason.isEmpty)
    }

    func testKnownProduct() {
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let b = Tensor(shape: [3, 2], scalars: [7, 8, 9, 10, 11, 12])
        XCTAssertEqual(matmul(a, b).scalars, [58, 64, 139, 154])
        XCTAssertEqual(matmul(a, a, transposeB: true).scalars, [14, 32, 32, 77])
    }
}

final class TensorTests: XCTestCase {
    func testCopyOnWriteLeavesTheOriginalAlone() {
        let a = Tensor(shape: [3], scalars: [1, 2, 3])
        var b = a
        b[0] = 10
        XCTAssertEqual(a.scalars, [1, 2, 3])
        XCTAssertEqual(b.scalars, [10, 2, 3])
    }

    func testBroadcastingAndSummingBack() {
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let row = Tensor(shape: [3], scalars: [10, 20, 30])
        let column = Tensor(shape: [2, 1], scalars: [100, 200])
        XCTAssertEqual((a + row).scalars, [11, 22, 33, 14, 25, 36])
        XCTAssertEqual((a * column).scalars, [100, 200, 300, 800, 1000, 1200])
        XCTAssertEqual(a.summed(toShape: [3]).scalars, [5, 7, 9])
        XCTAssertEqual(a.summed(toShape: [2, 1]).scalars, [6, 15])
        XCTAssertEqual(a.summed(toShape: [1, 1]).scalars, [21])
        XCTAssertEqual(broadcastShape([4, 1, 3], [2, 1]), [4, 2, 3])
        XCTAssertNil(broadcastShape([2, 3], [4]))
    }

    func testRandomSourceIsReproducibleAndInRange() {
        var a = RandomSource(seed: 42), b = RandomSource(seed: 42)
        XCTAssertEqual((0..<5).map { _ in a.nextBits() }, (0..<5).map { _ in b.nextBits() })
        var random = RandomSource(seed: 3)
        let values = (0..<10_000).map { _ in random.uniform(-1, 1) }
        XCTAssertTrue(values.allSatisfy { $0 >= -1 && $0 < 1 })
        let normals = (0..<20_000).map { _ in random.normal() }
        let mean = normals.reduce(0, +) / Double(normals.count)
        let variance = normals.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(normals.count)
        XCTAssertEqual(mean, 0, accuracy: 0.03)
        XCTAssertEqual(variance, 1, accuracy: 0.04)
    }

    func testStableSigmoidAndSoftplusAtExtremes() {
        let x = Tensor(shape: [4], scalars: [-100, -1, 1, 100])
        let s = x.sigmoid().scalars, sp = x.softplus().scalars
        XCTAssertEqual(s[0], 0, accuracy: 1e-30)
        XCTAssertEqual(s[3], 1)
        XCTAssertEqual(s[1] + s[2], 1, accuracy: 1e-6)
        XCTAssertEqual(sp[0], 0, accuracy: 1e-30)
        XCTAssertEqual(sp[3], 100)
        XCTAssertEqual(sp[2] - sp[1], 1, accuracy: 1e-6)
    }
}

/// One case of a product test: sizes, transposes, how C starts, and random operands (flat, as
/// the C kernels take them).
private struct ProductCase {
    let m: Int, k: Int, n: Int, ta: Bool, tb: Bool, beta: Float, withBias: Bool
    let a: [Float], b: [Float], start: [Float], bias: [Float]
}

/// Every case of each shape (m, k, n): the four transposes and C started from 0, C, beta·C or a
/// bias, operands drawn from `seed`.
private func forEachProductCase(_ shapes: [(Int, Int, Int)], seed: UInt64, _ body: (ProductCase) -> Void) {
    var random = RandomSource(seed: seed)
    for (m, k, n) in shapes {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            for (beta, withBias): (Float, Bool) in [(0, false), (1, false), (0.5, false), (0.5, true)] {
                let a = Tensor.uniform(shape: ta ? [k, m] : [m, k], low: -1, high: 1, using: &random).scalars
                let b = Tensor.uniform(shape: tb ? [n, k] : [k, n], low: -1, high: 1, using: &random).scalars
                let start = Tensor.uniform(shape: [m, n], low: -1, high: 1, using: &random).scalars
                let bias = Tensor.uniform(shape: [n], low: -1, high: 1, using: &random).scalars
                body(ProductCase(m: m, k: k, n: n, ta: ta, tb: tb, beta: beta, withBias: withBias, a: a, b: b, start: start, bias: bias))
            }
        }
    }
}
