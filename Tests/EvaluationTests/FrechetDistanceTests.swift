@testable import Evaluation
import Kernels
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// A tensor [rows, columns] from rows of numbers.
func matrix(_ rows: [[Double]]) -> Tensor {
    Tensor(shape: [rows.count, rows.first?.count ?? 0], scalars: rows.flatMap { $0.map(Float.init) })
}

/// The 2×2 rotation by `angle` times diag(values) times its transpose, row-major.
func rotatedCovariance(_ values: (Double, Double), angle: Double) -> [Double] {
    let (c, s) = (cos(angle), sin(angle))
    return [c * c * values.0 + s * s * values.1, c * s * (values.0 - values.1),
            c * s * (values.0 - values.1), s * s * values.0 + c * c * values.1]
}

/// xᵀ·M·x for a row-major square M.
func quadraticForm(_ x: [Double], _ m: [Double]) -> Double {
    var sum = 0.0
    for i in x.indices {
        for j in x.indices { sum += x[i] * m[i * x.count + j] * x[j] }
    }
    return sum
}

final class FrechetDistanceTests: XCTestCase {
    var random = RandomSource(seed: 7)

    /// n samples of N(mean, L·Lᵀ) for a lower-triangular L, row-major d×d.
    func gaussianSamples(_ n: Int, mean: [Double], factor: [Double]) -> Tensor {
        let d = mean.count
        var rows = [[Double]]()
        for _ in 0..<n {
            let z = (0..<d).map { _ in random.normal() }
            var row = mean
            for i in 0..<d {
                for j in 0...i { row[i] += factor[i * d + j] * z[j] }
            }
            rows.append(row)
        }
        return matrix(rows)
    }

    func testStatisticsOfASmallSetByHand() {
        let statistics = FeatureStatistics(features: matrix([[1, 2], [3, 0], [5, 4]]))
        XCTAssertEqual(statistics.count, 3)
        XCTAssertEqual(statistics.dimension, 2)
        XCTAssertEqual(statistics.mean, [3, 2])
        // Centred rows (−2, 0), (0, −2), (2, 2); sums of products over n − 1 = 2.
        XCTAssertEqual(statistics.covariance, [4, 2, 2, 4])
    }

    func testIdenticalStatisticsGiveZero() {
        let d = 16
        var factor = [Double](repeating: 0, count: d * d)
        for i in 0..<d { for j in 0...i { factor[i * d + j] = random.normal() } }
        let features = gaussianSamples(500, mean: (0..<d).map { Double($0) }, factor: factor)
        let statistics = FeatureStatistics(features: features)
        XCTAssertEqual(frechetDistance(statistics, statistics), 0, accuracy: 1e-9)
        XCTAssertEqual(frechetDistance(statistics, FeatureStatistics(features: features)), 0, accuracy: 1e-9)
    }

    /// Two samples of one Gaussian are close, much closer than after moving one mean by 0.3.
    func testSamplesOfOneGaussianAreClose() {
        let factor: [Double] = [1, 0, 0, 0.5, 0.8, 0, -0.3, 0.2, 0.6]
        let first = FeatureStatistics(features: gaussianSamples(20_000, mean: [1, 2, 3], factor: factor))
        let second = FeatureStatistics(features: gaussianSamples(20_000, mean: [1, 2, 3], factor: factor))
        let moved = FeatureStatistics(features: gaussianSamples(20_000, mean: [1.3, 2, 3], factor: factor))
        XCTAssertLessThan(frechetDistance(first, second), 0.005)
        XCTAssertEqual(frechetDistance(first, moved), 0.09, accuracy: 0.01)
    }

    /// Diagonal covariances: Σᵢ (√aᵢ − √bᵢ)² + ‖μ₁ − μ₂‖²; the same after one rotation of both.
    func testDiagonalAndCommonlyRotatedCovariances() {
        let a = FeatureStatistics(mean: [0, 0, 0], covariance: [1, 0, 0, 0, 4, 0, 0, 0, 9], count: 100)
        let b = FeatureStatistics(mean: [1, 2, -1], covariance: [4, 0, 0, 0, 1, 0, 0, 0, 0.25], count: 100)
        // 6 + (1 − 2)² + (2 − 1)² + (3 − 0.5)²
        XCTAssertEqual(frechetDistance(a, b), 14.25, accuracy: 1e-12)
        XCTAssertEqual(frechetDistance(b, a), 14.25, accuracy: 1e-12)
        // Eigenvalues far below the largest but far above rounding are kept.
        let small = FeatureStatistics(mean: [0, 0], covariance: [1, 0, 0, 1e-10], count: 10)
        let smaller = FeatureStatistics(mean: [0, 0], covariance: [1, 0, 0, 4e-10], count: 10)
        XCTAssertEqual(frechetDistance(small, smaller), 1e-10, accuracy: 1e-15)
        for angle in [0.3, 1.0, 2.5] {
            let rotatedA = FeatureStatistics(mean: [0, 0], covariance: rotatedCovariance((1, 9), angle: angle), count: 100)
            let rotatedB = FeatureStatistics(mean: [3, 4], covariance: rotatedCovariance((4, 0.25), angle: angle), count: 100)
            XCTAssertEqual(frechetDistance(rotatedA, rotatedB), 25 + 1 + 6.25, accuracy: 1e-12)
        }
    }

    /// Any 2×2 pair: Tr((Σ₁Σ₂)^½) = √(Tr(Σ₁Σ₂) + 2√(det Σ₁ · det Σ₂)), since a 2×2 root's trace t
    /// satisfies t² = Tr M + 2√det M.
    func testNonCommutingTwoByTwoCovariancesMatchClosedForm() {
        let cases: [((Double, Double), Double, (Double, Double), Double)] = [
            ((1, 4), 0, (9, 0.25), .pi / 6), ((2, 0.5), 0.4, (1, 3), 1.2), ((5, 5), 0, (0.1, 7), 0.7)]
        for (valuesA, angleA, valuesB, angleB) in cases {
            let sa = rotatedCovariance(valuesA, angle: angleA), sb = rotatedCovariance(valuesB, angle: angleB)
            let traceOfProduct = sa[0] * sb[0] + sa[1] * sb[2] + sa[2] * sb[1] + sa[3] * sb[3]
            let determinants = valuesA.0 * valuesA.1 * valuesB.0 * valuesB.1
            let expected = 1 + 4 + valuesA.0 + valuesA.1 + valuesB.0 + valuesB.1
                - 2 * (traceOfProduct + 2 * determinants.squareRoot()).squareRoot()
            let a = FeatureStatistics(mean: [1, 1], covariance: sa, count: 10)
            let b = FeatureStatistics(mean: [2, 3], covariance: sb, count: 10)
            XCTAssertEqual(frechetDistance(a, b), expected, accuracy: 1e-12, "\(valuesA) \(angleA) \(valuesB) \(angleB)")
        }
    }

    /// Σ₁ = a·uuᵀ, Σ₂ = b·vvᵀ (unit u, v): Tr((Σ₁Σ₂)^½) = √(ab)·|u·v|; Σ₁ = a·uuᵀ against a full Σ₂:
    /// √(a·uᵀΣ₂u). Finite, and the formula's value.
    func testRankDeficientCovariancesGiveTheClosedForm() {
        let u = [1.0, 2, 2].map { $0 / 3 }, v = [0.0, 0.6, 0.8]
        func outer(_ x: [Double], _ scale: Double) -> [Double] { (0..<9).map { scale * x[$0 / 3] * x[$0 % 3] } }
        let line = FeatureStatistics(mean: [0, 0, 0], covariance: outer(u, 2), count: 10)
        let otherLine = FeatureStatistics(mean: [0, 0, 1], covariance: outer(v, 3), count: 10)
        let dot = zip(u, v).reduce(0) { $0 + $1.0 * $1.1 }
        XCTAssertEqual(frechetDistance(line, otherLine), 1 + 2 + 3 - 2 * 6.0.squareRoot() * dot, accuracy: 1e-9)
        XCTAssertEqual(frechetDistance(otherLine, line), 1 + 2 + 3 - 2 * 6.0.squareRoot() * dot, accuracy: 1e-9)
        XCTAssertEqual(frechetDistance(line, line), 0, accuracy: 1e-7)

        let full = FeatureStatistics(mean: [0, 0, 0], covariance: [2, 0.5, 0, 0.5, 1, 0.3, 0, 0.3, 3], count: 10)
        let quadratic = quadraticForm(u, full.covariance)
        XCTAssertEqual(frechetDistance(line, full), 2 + 6 - 2 * (2 * quadratic).squareRoot(), accuracy: 1e-9)
        XCTAssertEqual(frechetDistance(full, line), 2 + 6 - 2 * (2 * quadratic).squareRoot(), accuracy: 1e-9)
    }

    /// Sampled features on a line (and in a plane) of 5-D space: rank-deficient covariances from
    /// FeatureStatistics itself, finite distances matching the closed form of their own statistics.
    func testFeaturesConfinedToASubspace() {
        let direction = [0.5, -0.5, 0.5, 0.5, 0.0]
        let t = (0..<200).map { _ in random.normal() }
        // ±s/2 are exact in Float, so the covariance is exactly variance·uuᵀ (u is a unit vector).
        let onLine = FeatureStatistics(features: matrix(t.map { s in direction.map { s * $0 } }))
        let variance = onLine.trace
        let full = FeatureStatistics(features: gaussianSamples(300, mean: [0, 0, 0, 0, 0], factor:
            (0..<25).map { $0 % 6 == 0 ? 1 : 0 }))
        let quadratic = quadraticForm(direction, full.covariance)
        let expected = onLine.squaredMeanDistance(to: full) + onLine.trace + full.trace
            - 2 * (variance * quadratic).squareRoot()
        XCTAssertEqual(frechetDistance(onLine, full), expected, accuracy: 1e-6)
        XCTAssertEqual(frechetDistance(onLine, onLine), 0, accuracy: 1e-6)

        let plane = matrix((0..<100).map { _ in
            let (x, y) = (random.normal(), random.normal())
            return [x, y, x + y, x - y, 0]
        })
        let planeStatistics = FeatureStatistics(features: plane)
        XCTAssertEqual(frechetDistance(planeStatistics, planeStatistics), 0, accuracy: 1e-6)
        XCTAssertTrue(frechetDistance(planeStatistics, onLine).isFinite)
        XCTAssertGreaterThan(frechetDistance(planeStatistics, onLine), 1)
    }

    /// Seed 000's distance, diagonal: ‖Δμ‖² + Σᵢ (aᵢ + bᵢ − 2·√(aᵢ²·√bᵢ)) = 6 + Σᵢ (aᵢ + bᵢ − 2aᵢ·bᵢ^¼).
    func testSeed000DistanceOnDiagonalCovariances() {
        let a = FeatureStatistics(mean: [0, 0, 0], covariance: [1, 0, 0, 0, 4, 0, 0, 0, 9], count: 100)
        let b = FeatureStatistics(mean: [1, 2, -1], covariance: [4, 0, 0, 0, 1, 0, 0, 0, 0.25], count: 100)
        let terms: [Double] = [1 + 4 - 2 * 1 * pow(4, 0.25), 4 + 1 - 2 * 4 * pow(1, 0.25), 9 + 0.25 - 2 * 9 * pow(0.25, 0.25)]
        let expected = 6 + terms.reduce(0, +)
        XCTAssertEqual(seed000FrechetDistance(a, b), expected, accuracy: 1e-12)
        XCTAssertGreaterThan(abs(seed000FrechetDistance(a, b) - frechetDistance(a, b)), 10)  // 1.69 against 14.25
    }

    /// Non-diagonal: Σ₂ = R·diag(9, ¼)·Rᵀ has the root R·diag(3, ½)·Rᵀ; the diagonal of Σ₁·Σ₂^½·Σ₁,
    /// multiplied out, square-rooted element by element.
    func testSeed000DistanceOnNonDiagonalCovariances() {
        let s1: [Double] = [2, 0.5, 0.5, 1]
        let s2 = rotatedCovariance((9, 0.25), angle: .pi / 6), root2 = rotatedCovariance((3, 0.5), angle: .pi / 6)
        let a = FeatureStatistics(mean: [0, 1], covariance: s1, count: 10)
        let b = FeatureStatistics(mean: [1, 1], covariance: s2, count: 10)
        // (Σ₁·R)[i][j] then (Σ₁·R·Σ₁)[i][i]
        let t = [s1[0] * root2[0] + s1[1] * root2[2], s1[0] * root2[1] + s1[1] * root2[3],
                 s1[2] * root2[0] + s1[3] * root2[2], s1[2] * root2[1] + s1[3] * root2[3]]
        let m00 = t[0] * s1[0] + t[1] * s1[2], m11 = t[2] * s1[1] + t[3] * s1[3]
        let expected = 1 + (2 + 1) + (9 + 0.25) - 2 * (m00.squareRoot() + m11.squareRoot())
        XCTAssertEqual(seed000FrechetDistance(a, b), expected, accuracy: 1e-12)
        XCTAssertGreaterThan(abs(seed000FrechetDistance(a, b) - frechetDistance(a, b)), 0.4)  // they differ by 0.50
    }

    /// Features scaled by 2: the distance grows 4-fold; seed 000's does not (its root has the wrong units).
    func testScalingTheFeatures() {
        let first = gaussianSamples(400, mean: [0, 0, 0], factor: [1, 0, 0, 0.3, 0.7, 0, 0.1, -0.4, 1.5])
        let second = gaussianSamples(400, mean: [0.5, 0, 0], factor: [0.6, 0, 0, 0, 1.2, 0, 0.5, 0, 0.8])
        func scaled(_ x: Tensor) -> Tensor { matrix((0..<x.shape[0]).map { i in (0..<3).map { 2 * Double(x[i * 3 + $0]) } }) }
        let (a, b) = (FeatureStatistics(features: first), FeatureStatistics(features: second))
        let (a2, b2) = (FeatureStatistics(features: scaled(first)), FeatureStatistics(features: scaled(second)))
        XCTAssertEqual(frechetDistance(a2, b2), 4 * frechetDistance(a, b), accuracy: 1e-9)
        XCTAssertGreaterThan(abs(seed000FrechetDistance(a2, b2) - 4 * seed000FrechetDistance(a, b)), 1)
    }
}
