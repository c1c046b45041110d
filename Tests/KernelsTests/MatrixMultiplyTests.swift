import Kernels
import XCTest

final class MatrixMultiplyTests: XCTestCase {
    func testBLASMatchesNaiveOnOddShapes() {
        var random = RandomSource(seed: 1)
        for (m, k, n) in [(1, 1, 1), (3, 5, 7), (17, 1, 9), (64, 33, 2), (2, 100, 257)] {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let a = Tensor.uniform(shape: ta ? [k, m] : [m, k], low: -1, high: 1, using: &random)
                let b = Tensor.uniform(shape: tb ? [n, k] : [k, n], low: -1, high: 1, using: &random)
                let fast = matmul(a, b, transposeA: ta, transposeB: tb)
                let naive = matmulNaive(a, b, transposeA: ta, transposeB: tb)
                XCTAssertEqual(fast.shape, [m, n])
                for (x, y) in zip(fast.scalars, naive.scalars) {
                    XCTAssertEqual(x, y, accuracy: 1e-4 * Float(k), "m=\(m) k=\(k) n=\(n) ta=\(ta) tb=\(tb)")
                }
            }
        }
    }

    /// Large products are cut into blocks of rows, one per thread: every element must come out
    /// bit for bit as from one call on one thread, with and without transposes and beta.
    func testThreadCountDoesNotChangeAnyBit() {
        var random = RandomSource(seed: 2)
        for (m, k, n) in [(64, 1024, 1024), (1001, 300, 301), (256, 100, 2600), (77, 4000, 250), (64, 256, 512)] {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let a = Tensor.uniform(shape: ta ? [k, m] : [m, k], low: -1, high: 1, using: &random)
                let b = Tensor.uniform(shape: tb ? [n, k] : [k, n], low: -1, high: 1, using: &random)
                let start = Tensor.uniform(shape: [m, n], low: -1, high: 1, using: &random)
                func product(threads: Int) -> [Float] {
                    setMatrixThreads(threads)
                    defer { resetMatrixThreads() }
                    var c = start
                    c.withUnsafeMutableBufferPointer { cb in
                        gemm(ta, tb, m, n, k, a.storage.pointer, b.storage.pointer, 0.5, cb.baseAddress!)
                    }
                    return c.scalars
                }
                let one = product(threads: 1)
                for threads in [2, 3, 4] {
                    let differing = zip(product(threads: threads), one).filter { $0 != $1 }.count
                    XCTAssertEqual(differing, 0, "\(threads) threads: m=\(m) k=\(k) n=\(n) ta=\(ta) tb=\(tb)")
                }
            }
        }
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
