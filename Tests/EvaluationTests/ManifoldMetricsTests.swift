@testable import Evaluation
import Kernels
import XCTest

final class ManifoldMetricsTests: XCTestCase {
    var random = RandomSource(seed: 2019)

    func gaussian(_ n: Int, _ d: Int, mean: Float = 0, std: Float = 1) -> Tensor {
        Tensor.normal(shape: [n, d], mean: mean, std: std, using: &random)
    }

    /// The four metrics straight from their definitions, every distance in Double.
    func bruteForce(real: Tensor, fake: Tensor, k: Int) -> (Double, Double, Double, Double) {
        let d = real.shape[1]
        let r = (0..<real.shape[0]).map { i in (0..<d).map { Double(real[i * d + $0]) } }
        let f = (0..<fake.shape[0]).map { i in (0..<d).map { Double(fake[i * d + $0]) } }
        func distance(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } }
        func radii(_ x: [[Double]]) -> [Double] {
            x.indices.map { i in x.indices.filter { $0 != i }.map { distance(x[i], x[$0]) }.sorted()[k - 1] }
        }
        let (realRadii, fakeRadii) = (radii(r), radii(f))
        let holding = f.map { fake in r.indices.filter { distance(fake, r[$0]) <= realRadii[$0] }.count }
        let precision = Double(holding.filter { $0 > 0 }.count) / Double(f.count)
        let recall = Double(r.filter { real in f.indices.contains { distance(real, f[$0]) <= fakeRadii[$0] } }.count) / Double(r.count)
        let density = Double(holding.reduce(0, +)) / Double(k * f.count)
        let coverage = Double(r.indices.filter { i in f.contains { distance(r[i], $0) <= realRadii[i] } }.count) / Double(r.count)
        return (precision, recall, density, coverage)
    }

    /// Blocks of 12 rows and one block for everything, on one thread and two, give the
    /// definitions' numbers.
    func testMatchesTheDefinitionsInAnyBlocking() {
        defer { resetMatrixThreads() }
        for (n, m, d, k) in [(97, 83, 5, 3), (40, 61, 2, 1), (30, 30, 12, 5)] {
            let real = gaussian(n, d), fake = gaussian(m, d, mean: 0.5, std: 0.8)
            let expected = bruteForce(real: real, fake: fake, k: k)
            for block in [1, 1 << 24] {
                for threads in [1, 2] {
                    setMatrixThreads(threads)
                    let metrics = manifoldMetrics(real: real, fake: fake, k: k, blockDistances: block)
                    let name = "\(n) reals, \(m) fakes, d \(d), k \(k), block \(block), \(threads) threads"
                    XCTAssertEqual(metrics.precision, expected.0, "precision, \(name)")
                    XCTAssertEqual(metrics.recall, expected.1, "recall, \(name)")
                    XCTAssertEqual(metrics.density, expected.2, "density, \(name)")
                    XCTAssertEqual(metrics.coverage, expected.3, "coverage, \(name)")
                    XCTAssertEqual([metrics.k, metrics.realCount, metrics.fakeCount], [k, n, m])
                }
            }
        }
    }

    /// Products large enough to be split over threads, in several blocks: the same numbers on one
    /// thread and two, on either kernel set.
    func testSameNumbersOnAnyThreadCount() {
        defer {
            resetMatrixThreads()
            setProductKernels(.portable)
        }
        let real = gaussian(1500, 32), fake = gaussian(1300, 32, std: 0.9)
        for kernels in ProductKernels.allCases {
            setProductKernels(kernels)
            let results = [1, 2].map { threads -> [Double] in
                setMatrixThreads(threads)
                let metrics = manifoldMetrics(real: real, fake: fake, k: 3, blockDistances: 400_000)
                return [metrics.precision, metrics.recall, metrics.density, metrics.coverage]
            }
            XCTAssertEqual(results[0], results[1], "\(kernels)")
        }
    }

    /// Identical sets: every fake is a real, so precision, recall and coverage are 1; each real ball
    /// holds its centre and its k neighbours, so density is (k + 1)/k.
    func testIdenticalSets() {
        let features = gaussian(600, 16)
        let metrics = manifoldMetrics(real: features, fake: features)
        XCTAssertEqual(metrics.precision, 1)
        XCTAssertEqual(metrics.recall, 1)
        XCTAssertEqual(metrics.coverage, 1)
        XCTAssertEqual(metrics.density, 4.0 / 3, accuracy: 0.01)
    }

    /// Fakes drawn like the reals, N = M: density's expectation is 1 and coverage's
    /// 1 − ∏ᵢ₌₁..ₖ (N − i)/(M + N − i) ≈ 1 − 2⁻ᵏ, whatever the distribution (Naeem et al. 2020, §4).
    func testDensityAndCoverageOfFakesDrawnLikeTheReals() {
        for (d, k) in [(2, 3), (16, 5)] {
            let metrics = manifoldMetrics(real: gaussian(2000, d), fake: gaussian(2000, d), k: k)
            // A real's ball holds no fake when its k nearest among the other reals and the fakes pooled are all reals.
            var allOutside = 1.0
            for i in 1...k { allOutside *= Double(2000 - i) / Double(4000 - i) }
            let expected = 1 - allOutside
            XCTAssertEqual(metrics.density, 1, accuracy: 0.05, "d \(d), k \(k)")
            XCTAssertEqual(metrics.coverage, expected, accuracy: 0.03, "d \(d), k \(k)")
        }
    }

    /// One tight cluster at the heart of the real data: realistic (precision ≈ 1) but no variety.
    func testTightClusterInsideTheRealData() {
        let metrics = manifoldMetrics(real: gaussian(2000, 8), fake: gaussian(500, 8, std: 0.01))
        XCTAssertGreaterThan(metrics.precision, 0.95)
        XCTAssertLessThan(metrics.recall, 0.02)
        XCTAssertLessThan(metrics.coverage, 0.05)
    }

    func testFakesFarAway() {
        let metrics = manifoldMetrics(real: gaussian(500, 8), fake: gaussian(500, 8, mean: 100))
        XCTAssertEqual(metrics.precision, 0)
        XCTAssertEqual(metrics.recall, 0)
        XCTAssertEqual(metrics.density, 0)
        XCTAssertEqual(metrics.coverage, 0)
    }

    /// 1-D, k = 1. Real 0, 1, 2, 10 have radii 1, 1, 1, 8; fake 0.5, 5, 20, 10.5 have radii 4.5, 4.5,
    /// 9.5, 5.5. Real balls holding each fake: 2 (0 and 1), 1 (10), 0, 1 (10): precision 3/4,
    /// density 4/4. Reals with a fake in their own ball: 0, 1, 10 (2's nearest fake is 1.5 away):
    /// coverage 3/4. Every real lies in a fake ball (2 in 0.5's): recall 1.
    func testDensityAndCoverageByHand() {
        let metrics = manifoldMetrics(real: matrix([[0], [1], [2], [10]]), fake: matrix([[0.5], [5], [20], [10.5]]), k: 1)
        XCTAssertEqual(metrics.precision, 0.75)
        XCTAssertEqual(metrics.recall, 1)
        XCTAssertEqual(metrics.density, 1)
        XCTAssertEqual(metrics.coverage, 0.75)
    }

    /// 2-D, k = 2. Reals at the corners of the unit square and at (5, 0): each corner's second
    /// nearest real is 1 away (radius 1), (5, 0)'s is (1, 1), √17 ≈ 4.12 away. Fakes (0.5, 0.5) and
    /// (0.4, 0.6) lie inside all four corner balls (≤ 0.85 away; 4.5 and 4.6 from (5, 0)), (3, 0)
    /// inside (5, 0)'s only: density (4 + 4 + 1)/(2·3) = 1.5, above 1 where fakes crowd; precision
    /// and coverage 1. Fake radii 2.55, 2.67, 2.67 hold every real (the corners in (0.5, 0.5)'s ball,
    /// (5, 0) 2 from (3, 0)): recall 1.
    func testDensityAboveOneWhereFakesCrowd() {
        let real = matrix([[0, 0], [1, 0], [0, 1], [1, 1], [5, 0]])
        let fake = matrix([[0.5, 0.5], [0.4, 0.6], [3, 0]])
        let metrics = manifoldMetrics(real: real, fake: fake, k: 2)
        XCTAssertEqual(metrics.precision, 1)
        XCTAssertEqual(metrics.recall, 1)
        XCTAssertEqual(metrics.density, 1.5)
        XCTAssertEqual(metrics.coverage, 1)
    }
}
