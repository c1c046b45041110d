import Dispatch
@testable import Evaluation
import Foundation
import Kernels
import XCTest

/// How long scoring 10,000 fakes against 10,000 reals takes (128-D features, 10 classes), on each
/// kernel set and on one and two threads, with the numbers checked to be the same on any thread
/// count. A check to run by hand, not a timed test:
/// `GAN_LAB_SCORING_TIMING=1 swift test -c release --filter ScoringSpeedCheck`.
final class ScoringSpeedCheck: XCTestCase {
    func seconds<T>(_ body: () -> T) -> (T, Double) {
        let start = DispatchTime.now().uptimeNanoseconds
        let result = body()
        return (result, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    func testScoringTenThousandAgainstTenThousand() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["GAN_LAB_SCORING_TIMING"] == "1",
                          "set GAN_LAB_SCORING_TIMING=1 to time the scoring")
        var random = RandomSource(seed: 10_000)
        let real = Tensor.normal(shape: [10_000, 128], using: &random)
        let fake = Tensor.normal(shape: [10_000, 128], using: &random)  // drawn like the reals
        let logits = Tensor.normal(shape: [10_000, 10], std: 3, using: &random).scalars
        var probabilities = [Float]()
        for row in 0..<10_000 {
            let exps = (0..<10).map { exp(Double(logits[row * 10 + $0])) }
            probabilities += exps.map { Float($0 / exps.reduce(0, +)) }
        }
        let classProbabilities = Tensor(shape: [10_000, 10], scalars: probabilities)
        print("CPU: \(processorFeatures().brand), \(processorFeatures().instructionSet)")
        defer {
            resetMatrixThreads()
            setProductKernels(.portable)
        }
        var results = [String: ManifoldMetrics]()
        for kernels in ProductKernels.allCases {
            for threads in [1, 2] {
                setProductKernels(kernels)
                setMatrixThreads(threads)
                let (metrics, manifoldTime) = seconds { manifoldMetrics(real: real, fake: fake) }
                // The three passes' distance blocks alone (products and ‖a‖² + ‖b‖² − 2a·b), no scans.
                let (_, productTime) = seconds {
                    for _ in 0..<3 { forEachDistanceBlock(real, fake, blockDistances: 1 << 24, parts: threads) { _, _, _ in } }
                }
                let ((a, b), statisticsTime) = seconds { (FeatureStatistics(features: real), FeatureStatistics(features: fake)) }
                let (distance, distanceTime) = seconds { frechetDistance(a, b) }
                let (score, scoreTime) = seconds { inceptionScore(probabilities: classProbabilities) }
                let (coverage, coverageTime) = seconds { ClassCoverage(probabilities: classProbabilities) }
                print(String(format: "%@ kernels, %d thread(s): precision/recall/density/coverage %.2fs (its distances alone %.2fs), statistics %.2fs, FID %.2fs, IS %.3fs, classes %.3fs",
                             kernels.rawValue, threads, manifoldTime, productTime, statisticsTime, distanceTime, scoreTime, coverageTime))
                print("  precision \(metrics.precision) recall \(metrics.recall) density \(metrics.density) coverage \(metrics.coverage) FID \(distance) IS \(score.mean) ± \(score.standardDeviation) fair classes \(coverage.classesWithFairShare)")
                // Fakes drawn like the reals: density ≈ 1 and coverage ≈ 1 − 2⁻³ (Naeem et al.'s
                // expectations); precision and recall alike (≈ 0.5: k-NN balls in 128-D noise).
                XCTAssertEqual(metrics.density, 1, accuracy: 0.05)
                XCTAssertEqual(metrics.coverage, 0.875, accuracy: 0.02)
                XCTAssertEqual(metrics.precision, metrics.recall, accuracy: 0.05)
                XCTAssertGreaterThan(distance, 0)
                if let oneThread = results[kernels.rawValue] {
                    XCTAssertEqual([metrics.precision, metrics.recall, metrics.density, metrics.coverage],
                                   [oneThread.precision, oneThread.recall, oneThread.density, oneThread.coverage],
                                   "\(kernels) on 1 and 2 threads")
                }
                results[kernels.rawValue] = metrics
            }
        }
        for d in [128, 256] {
            var random = RandomSource(seed: UInt64(d))
            let first = FeatureStatistics(features: Tensor.normal(shape: [2 * d, d], using: &random))
            let second = FeatureStatistics(features: Tensor.normal(shape: [2 * d, d], std: 1.1, using: &random))
            let (_, eigenTime) = seconds { SymmetricEigenDecomposition(symmetric: first.covariance, dimension: d) }
            let (_, singularTime) = seconds { singularValues(first.covariance, dimension: d) }
            let (_, distanceTime) = seconds { frechetDistance(first, second) }
            print(String(format: "d = %d: eigen-decomposition %.3fs, singular values %.3fs, Fréchet distance %.3fs",
                         d, eigenTime, singularTime, distanceTime))
        }
    }
}
