@testable import Evaluation
import Kernels
import XCTest

final class SymmetricEigenTests: XCTestCase {
    var random = RandomSource(seed: 17)

    /// B·Bᵀ (+ shift·I) for a random d×r matrix B: symmetric positive semi-definite, of rank
    /// min(d, r) when shift is 0.
    func randomGram(dimension d: Int, rank r: Int, shift: Double = 0) -> [Double] {
        let b = (0..<(d * r)).map { _ in random.normal() }
        var a = [Double](repeating: 0, count: d * d)
        for i in 0..<d {
            for j in 0..<d {
                a[i * d + j] = (0..<r).reduce(0) { $0 + b[i * r + $1] * b[j * r + $1] } + (i == j ? shift : 0)
            }
        }
        return a
    }

    func transposed(_ a: [Double], _ d: Int) -> [Double] {
        (0..<(d * d)).map { a[($0 % d) * d + $0 / d] }
    }

    func maximumDifference(_ a: [Double], _ b: [Double]) -> Double {
        zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    func testKnownTwoByTwo() {
        let eigen = SymmetricEigenDecomposition(symmetric: [2, 1, 1, 2], dimension: 2)
        XCTAssertEqual(eigen.values[0], 1, accuracy: 1e-14)
        XCTAssertEqual(eigen.values[1], 3, accuracy: 1e-14)
        // The eigenvector of 3 is (1, 1)/√2, up to sign.
        XCTAssertEqual(abs(eigen.vectors[1]), 0.5.squareRoot(), accuracy: 1e-14)
        XCTAssertEqual(eigen.vectors[1], eigen.vectors[3], accuracy: 1e-14)
    }

    /// V·Λ·Vᵀ gives A back, V is orthonormal, the eigenvalues ascend; full rank and rank-deficient.
    func testDecompositionReconstructsRandomPositiveSemiDefiniteMatrices() {
        for (d, r) in [(1, 1), (2, 1), (3, 5), (5, 2), (17, 17), (40, 45), (64, 10), (128, 130)] {
            let a = randomGram(dimension: d, rank: r)
            let eigen = SymmetricEigenDecomposition(symmetric: a, dimension: d)
            let scale = a.map(abs).max()!
            let lambda = (0..<(d * d)).map { $0 % (d + 1) == 0 ? eigen.values[$0 / (d + 1)] : 0 }
            let rebuilt = product(product(eigen.vectors, lambda, d), transposed(eigen.vectors, d), d)
            XCTAssertLessThan(maximumDifference(rebuilt, a), 1e-12 * scale, "V·Λ·Vᵀ, d \(d), rank \(r)")
            let gram = product(transposed(eigen.vectors, d), eigen.vectors, d)
            let identity = (0..<(d * d)).map { $0 % (d + 1) == 0 ? 1.0 : 0 }
            XCTAssertLessThan(maximumDifference(gram, identity), 1e-12, "VᵀV, d \(d), rank \(r)")
            XCTAssertEqual(eigen.values, eigen.values.sorted(), "ascending, d \(d)")
            // A rank-r matrix has d − r zero eigenvalues; rounding may leave them a little below zero.
            XCTAssertGreaterThan(eigen.values.min()!, -1e-12 * scale, "d \(d), rank \(r)")
            if r < d { XCTAssertLessThan(abs(eigen.values[d - r - 1]), 1e-12 * scale, "null space, d \(d), rank \(r)") }
        }
    }

    /// S·S = A and S = Sᵀ; rank-deficient matrices give a finite root too.
    func testSquareRootSquaresBackToTheMatrix() {
        for (d, r) in [(1, 1), (3, 1), (6, 6), (20, 7), (50, 60)] {
            let a = randomGram(dimension: d, rank: r)
            let root = symmetricSquareRoot(a, dimension: d)
            XCTAssertTrue(root.allSatisfy { $0.isFinite })
            let scale = a.map(abs).max()!
            XCTAssertLessThan(maximumDifference(product(root, root, d), a), 1e-10 * scale, "S·S, d \(d), rank \(r)")
            XCTAssertEqual(maximumDifference(root, transposed(root, d)), 0, accuracy: 1e-14 * scale)
        }
    }

    /// The eigen-decomposition's root agrees with Newton–Schulz's, which uses no eigenvectors.
    func testSquareRootAgreesWithNewtonSchulzReference() {
        for d in [1, 2, 4, 9, 32, 64] {
            let a = randomGram(dimension: d, rank: d + 3, shift: 0.5)
            let reference = newtonSchulzSquareRoot(a, dimension: d)
            // The reference is itself a square root (so agreeing with it means something).
            let scale = a.map(abs).max()!
            XCTAssertLessThan(maximumDifference(product(reference, reference, d), a), 1e-10 * scale, "reference, d \(d)")
            let root = symmetricSquareRoot(a, dimension: d)
            XCTAssertLessThan(maximumDifference(root, reference), 1e-10 * scale.squareRoot(), "d \(d)")
        }
    }

    /// U·diag(σ)·Vᵀ for rotations U, V gives σ back; random matrices give the square roots of
    /// AᵀA's eigenvalues (accurate there when A is well-conditioned).
    func testSingularValuesOfKnownAndRandomMatrices() {
        let (c, s) = (0.6, 0.8)
        let u: [Double] = [c, -s, s, c], v: [Double] = [0.28, 0.96, -0.96, 0.28]  // rotations
        let known = product(product(u, [5, 0, 0, 0.5], 2), transposed(v, 2), 2)
        let values = singularValues(known, dimension: 2)
        XCTAssertEqual(values[0], 5, accuracy: 1e-14)
        XCTAssertEqual(values[1], 0.5, accuracy: 1e-14)
        XCTAssertEqual(singularValues([0, 0, 0, 0], dimension: 2), [0, 0])
        XCTAssertEqual(singularValues([0, 3, 0, 0], dimension: 2), [3, 0])
        for d in [1, 3, 8, 33] {
            let a = (0..<(d * d)).map { index in random.normal() + (index % (d + 1) == 0 ? 3 : 0) }
            let expected = SymmetricEigenDecomposition(symmetric: product(transposed(a, d), a, d), dimension: d)
                .values.map { $0.squareRoot() }.reversed()
            let computed = singularValues(a, dimension: d)
            XCTAssertLessThan(maximumDifference(computed, Array(expected)), 1e-11 * computed[0], "d \(d)")
        }
    }
}
