import CMicroKernels
import Kernels
import XCTest

/// A pending product taken a block of rows at a time (an optimizer's fused update): every
/// element once, with the bits of the product computed whole.
final class PendingProductTests: XCTestCase {
    private var instructionSet = currentPortableInstructionSet()

    override func setUp() { instructionSet = currentPortableInstructionSet() }

    override func tearDown() {
        setPortableInstructionSet(instructionSet)
        resetMatrixThreads()
    }

    /// Each element handed out exactly once, bit for bit as `value()`, on every vector instruction
    /// set of the portable kernels and on one, two and three threads (claiming blocks of varying
    /// sizes), with and without transposes; blocks cross the kernels' 96-row blocks and partial tiles.
    func testBlocksCoverTheProductWithItsBits() throws {
        var random = RandomSource(seed: 11)
        let vectorSets = processorFeatures().portableInstructionSets.filter { $0 != .scalar }
        try XCTSkipIf(vectorSets.isEmpty, "no AVX2 on this CPU: products are never taken in blocks")
        for set in vectorSets {
            setPortableInstructionSet(set)
            for (m, k, n) in [(784, 64, 1024), (520, 64, 300), (97, 64, 700), (100, 256, 1001)] {
                for (ta, tb) in [(true, false), (false, false), (false, true), (true, true)] {
                    let a = Tensor.uniform(shape: ta ? [k, m] : [m, k], low: -1, high: 1, using: &random)
                    let b = Tensor.uniform(shape: tb ? [n, k] : [k, n], low: -1, high: 1, using: &random)
                    let product = PendingProduct(a, b, transposeA: ta, transposeB: tb)
                    XCTAssertEqual(product.shape, [m, n])
                    let whole = product.value().scalars
                    for threads in [1, 2, 3] {
                        setMatrixThreads(threads)
                        assertBlocks(of: product, are: whole, "\(set.name), \(threads) threads: m=\(m) k=\(k) n=\(n) ta=\(ta) tb=\(tb)")
                    }
                }
            }
        }
    }

    /// A sum of products (a weight's gradient over its uses) taken in blocks: every element once,
    /// bit for bit the terms computed whole and added in order, on every vector instruction set
    /// and one to three threads; terms of different depths and transposes, two to four of them.
    func testSumsTakenInBlocksHaveTheBitsOfTheirTermsAddedInOrder() throws {
        var random = RandomSource(seed: 13)
        let vectorSets = processorFeatures().portableInstructionSets.filter { $0 != .scalar }
        try XCTSkipIf(vectorSets.isEmpty, "no AVX2 on this CPU: products are never taken in blocks")
        let (m, n) = (520, 300)
        func term(_ k: Int, _ ta: Bool, _ tb: Bool) -> PendingProduct {
            PendingProduct(Tensor.uniform(shape: ta ? [k, m] : [m, k], low: -1, high: 1, using: &random),
                           Tensor.uniform(shape: tb ? [n, k] : [k, n], low: -1, high: 1, using: &random),
                           transposeA: ta, transposeB: tb)
        }
        let sums = [[term(64, true, false), term(64, true, false)],
                    [term(64, true, false), term(17, false, true), term(256, true, true)],
                    [term(8, false, false), term(64, true, false), term(33, true, false), term(64, false, true)]]
        for set in vectorSets {
            setPortableInstructionSet(set)
            for terms in sums {
                let sum = terms.dropFirst().reduce(terms[0]) { $0.adding($1) }
                XCTAssertEqual(sum.addends.count, terms.count - 1)
                var expected = terms[0].value()
                for term in terms.dropFirst() { expected.add(term.value()) }
                XCTAssertEqual(sum.value().scalars.map(\.bitPattern), expected.scalars.map(\.bitPattern))
                for threads in [1, 2, 3] {
                    setMatrixThreads(threads)
                    assertBlocks(of: sum, are: expected.scalars, "\(set.name), \(threads) threads, \(terms.count) terms")
                }
            }
            // Five terms are more than the kernel sums: declined, nothing computed.
            let five = (0..<4).reduce(term(64, true, false)) { sum, _ in sum.adding(term(64, true, false)) }
            XCTAssertFalse(five.forEachBlock { _, _ in XCTFail("a block of five terms") })
        }
    }

    /// Where blocks do not apply nothing is computed and the caller is told to take the product
    /// whole: OpenBLAS's kernels, the scalar portable kernels, a small product, op(B) wider than
    /// 1,024 columns or deeper than 256.
    func testDeclinesWhereBlocksDoNotApply() {
        var random = RandomSource(seed: 12)
        func pending(_ m: Int, _ k: Int, _ n: Int) -> PendingProduct {
            PendingProduct(Tensor.uniform(shape: [k, m], low: -1, high: 1, using: &random),
                           Tensor.uniform(shape: [k, n], low: -1, high: 1, using: &random), transposeA: true)
        }
        var calls = 0
        let count = { (_: Range<Int>, _: UnsafePointer<Float>) in calls += 1 }
        XCTAssertFalse(pending(64, 64, 64).forEachBlock(count))
        XCTAssertFalse(pending(256, 64, 1025).forEachBlock(count))
        XCTAssertFalse(pending(256, 257, 512).forEachBlock(count))
        XCTAssertFalse(withProductKernels(.fastest) { pending(784, 64, 1024).forEachBlock(count) })
        setPortableInstructionSet(.scalar)
        XCTAssertFalse(pending(784, 64, 1024).forEachBlock(count))
        XCTAssertEqual(calls, 0)
    }

    /// `product` taken in blocks: every row handed out exactly once, each element with the bits of `expected`.
    private func assertBlocks(of product: PendingProduct, are expected: [Float], _ label: String,
                              file: StaticString = #filePath, line: UInt = #line) {
        let (m, n) = (product.shape[0], product.shape[1])
        var seen = [Float](repeating: .nan, count: m * n), visits = [Int](repeating: 0, count: m)
        let lock = NSLock()
        let taken = product.forEachBlock { rows, block in
            lock.lock()
            defer { lock.unlock() }
            for row in rows {
                visits[row] += 1
                for j in 0..<n { seen[row * n + j] = block[(row - rows.lowerBound) * n + j] }
            }
        }
        XCTAssertTrue(taken, label, file: file, line: line)
        XCTAssertEqual(visits, [Int](repeating: 1, count: m), label, file: file, line: line)
        XCTAssertEqual(zip(seen, expected).filter { $0.bitPattern != $1.bitPattern }.count, 0, label, file: file, line: line)
    }
}
