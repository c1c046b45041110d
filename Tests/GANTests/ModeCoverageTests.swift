import Data
import GAN
import Kernels
import XCTest

final class ModeCoverageTests: XCTestCase {
    func testRingHasEightDistinctModesOnTheUnitCircle() {
        let ring = GaussianMixture.ring()
        XCTAssertEqual(ring.modeCount, 8)
        XCTAssertEqual(ring.std, 0.01)
        for (k, mode) in ring.means.enumerated() {
            XCTAssertEqual((mode.x * mode.x + mode.y * mode.y).squareRoot(), 1, accuracy: 1e-12)
            let next = ring.means[(k + 1) % 8]
            // Neighbours are 2·sin(π/8) ≈ 0.765 apart, the last one included (no duplicate at 2π).
            XCTAssertEqual(((mode.x - next.x) * (mode.x - next.x) + (mode.y - next.y) * (mode.y - next.y)).squareRoot(),
                           2 * sin(Double.pi / 8), accuracy: 1e-12)
        }
        let grid = GaussianMixture.grid()
        XCTAssertEqual(grid.modeCount, 25)
        XCTAssertEqual(grid.std, 0.05)
        XCTAssertEqual(Set(grid.means.map { $0.x }), [-4, -2, 0, 2, 4])
        XCTAssertEqual(Set(grid.means.map { "\($0.x),\($0.y)" }).count, 25)
    }

    func testTheTrueMixtureCapturesEveryModeAtTheTheoreticalQuality() {
        XCTAssertEqual(ModeCoverage.idealHighQualityPercent(), 98.889, accuracy: 0.001)
        for (mixture, seed) in [(GaussianMixture.ring(), UInt64(1)), (.grid(), 2), (.ring(std: 0.05), 3)] {
            var random = RandomSource(seed: seed)
            // 20 draws of 2,500: the mean high-quality share is within 0.2 of 98.9 %.
            var percents: [Double] = []
            for _ in 0..<20 {
                let coverage = ModeCoverage(samples: mixture.sample(count: 2500, using: &random), means: mixture.means, std: mixture.std)
                XCTAssertEqual(coverage.modesCaptured, mixture.modeCount)
                XCTAssertEqual(coverage.sampleCount, 2500)
                XCTAssertLessThan(coverage.reverseKL, 0.02)
                percents.append(coverage.highQualityPercent)
            }
            XCTAssertEqual(percents.reduce(0, +) / 20, 98.889, accuracy: 0.2)
            XCTAssertGreaterThan(percents.min()!, 98.0)
        }
    }

    func testDegenerateSamplers() {
        let ring = GaussianMixture.ring()
        var random = RandomSource(seed: 4)
        // Every sample on mode 3: one mode, all high quality, reverse KL = log 8.
        let onOneMode = GaussianMixture(means: [ring.means[3]], std: ring.std).sample(count: 2500, using: &random)
        let collapsed = ModeCoverage(samples: onOneMode, means: ring.means, std: ring.std)
        XCTAssertEqual(collapsed.modesCaptured, 1)
        XCTAssertEqual(collapsed.countsPerMode[3], collapsed.highQualityCount)
        XCTAssertGreaterThan(collapsed.highQualityPercent, 98)
        XCTAssertEqual(collapsed.reverseKL, log(8), accuracy: 1e-9)

        // Every sample halfway between two neighbouring modes: nothing is high quality, no mode captured.
        let between = GaussianMixture(means: [(cos(Double.pi / 8), sin(Double.pi / 8))], std: 0.01).sample(count: 2500, using: &random)
        let lost = ModeCoverage(samples: between, means: ring.means, std: ring.std)
        XCTAssertEqual(lost.highQualityPercent, 0)
        XCTAssertEqual(lost.modesCaptured, 0)
        XCTAssertEqual(lost.nearestCountsPerMode.reduce(0, +), 2500)
        XCTAssertEqual(lost.reverseKL, .infinity)

        // Two modes with equal shares: KL(q‖u) = log 4.
        let two = Tensor(shape: [4, 2], scalars: [1, 0, 1, 0, -1, 0, -1, 0])
        let half = ModeCoverage(samples: two, means: ring.means, std: ring.std)
        XCTAssertEqual(half.modesCaptured, 2)
        XCTAssertEqual(half.reverseKL, log(4), accuracy: 1e-9)
    }

    func testTheThresholdIsThreeSigmaFromTheNearestMode() {
        let ring = GaussianMixture.ring()
        let points = Tensor(shape: [2, 2], scalars: [1.029, 0, 1.031, 0])
        let coverage = ModeCoverage(samples: points, means: ring.means, std: ring.std)
        XCTAssertEqual(coverage.highQualityCount, 1)
        XCTAssertEqual(coverage.countsPerMode[0], 1)
        XCTAssertEqual(coverage.nearestCountsPerMode[0], 2)
    }
}
