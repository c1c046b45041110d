import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Kernels
import XCTest

/// Minibatch discrimination's closeness sums (closeness.c), the whole batch at once: the bits of
/// the one-pair-at-a-time loops written out here, on every instruction set the CPU has.
final class ClosenessTests: XCTestCase {
    override func tearDown() {
        setPortableInstructionSet(processorFeatures().portableInstructionSets.last!)
    }

    /// The sums, each exponential, and the pullback, pair by pair in the order that defines them:
    /// o[i, b] adds its partners' terms in increasing j; dM[i, b, c] subtracts them likewise, j ≠ i.
    private func reference(_ x: [Float], _ g: [Float], n: Int, kernels: Int, size: Int)
        -> (sums: [Float], exponentials: [Float], gradient: [Float]) {
        let width = kernels * size
        var e = [Float](repeating: 0, count: kernels * n * n), sums = [Float](repeating: 0, count: n * kernels)
        for i in 0..<n {
            for j in i..<n {
                for k in 0..<kernels {
                    var distance: Float = 0
                    for c in 0..<size { distance += abs(x[i * width + k * size + c] - x[j * width + k * size + c]) }
                    let value = expf(-distance)
                    e[(k * n + i) * n + j] = value
                    e[(k * n + j) * n + i] = value
                    sums[i * kernels + k] += value
                    if j != i { sums[j * kernels + k] += value }
                }
            }
        }
        var gradient = [Float](repeating: 0, count: n * width)
        for i in 0..<n {
            for j in 0..<n where j != i {
                for k in 0..<kernels {
                    let weight = (g[i * kernels + k] + g[j * kernels + k]) * e[(k * n + i) * n + j]
                    for c in 0..<size {
                        let difference = x[i * width + k * size + c] - x[j * width + k * size + c]
                        gradient[i * width + k * size + c] -= difference > 0 ? weight : (difference < 0 ? -weight : 0)
                    }
                }
            }
        }
        return (sums, e, gradient)
    }

    func testTheSameBitsAsPairByPairOnEveryInstructionSet() {
        var random = RandomSource(seed: 5)
        for (n, kernels, size) in [(1, 1, 1), (2, 5, 3), (7, 3, 2), (19, 5, 3), (64, 5, 3), (33, 2, 7)] {
            var x = Tensor.uniform(shape: [n, kernels * size], low: -2, high: 2, using: &random).scalars
            if n > 2 { x[kernels * size] = x[0] }  // a pair at distance 0 in its first coordinate
            let g = Tensor.uniform(shape: [n, kernels], low: -1, high: 1, using: &random).scalars
            let expected = reference(x, g, n: n, kernels: kernels, size: size)
            for set in processorFeatures().portableInstructionSets {
                setPortableInstructionSet(set)
                let rows = Tensor(shape: [n, kernels * size], scalars: x)
                let (sums, exponentials) = closenessSums(rows, kernels: kernels, size: size)
                let gradient = closenessSumsPullback(rows, upstream: Tensor(shape: [n, kernels], scalars: g),
                                                     exponentials: exponentials, kernels: kernels, size: size)
                let context = "\(set.name), n \(n), \(kernels) kernels of \(size)"
                XCTAssertEqual(sums.scalars.map(\.bitPattern), expected.sums.map(\.bitPattern), "sums, \(context)")
                XCTAssertEqual(exponentials.scalars.map(\.bitPattern), expected.exponentials.map(\.bitPattern), "exponentials, \(context)")
                XCTAssertEqual(gradient.scalars.map(\.bitPattern), expected.gradient.map(\.bitPattern), "gradient, \(context)")
            }
        }
    }
}
