import Autodiff
import Data
import Foundation
import GAN
import Kernels
@testable import Lessons
import NN
import XCTest

/// The numbers the toy lessons print: divergences, disk coverage, curve fit, RMSProp, the joint step.
final class ToyMeasureTests: XCTestCase {
    func testDivergencesOfKnownHistograms() {
        let p = [0.5, 0.5], q = [0.25, 0.75]
        XCTAssertEqual(klDivergence(p, p), 0)
        XCTAssertEqual(jsDivergence(q, q), 0)
        XCTAssertEqual(klDivergence(p, q), 0.207_518_749_6, accuracy: 1e-9)
        XCTAssertEqual(jsDivergence(p, q), 0.048_794_940_7, accuracy: 1e-9)
        XCTAssertEqual(jsDivergence([1, 0], [0, 1]), 1, accuracy: 1e-12)  // disjoint: exactly one bit, the maximum
        XCTAssertEqual(klDivergence([1, 0], [0, 1]), .infinity)
        var random = RandomSource(seed: 9)
        for _ in 0..<50 {
            let a = (0..<6).map { _ in random.nextUnit() }, b = (0..<6).map { _ in random.nextUnit() }
            let js = jsDivergence(a.map { $0 / a.reduce(0, +) }, b.map { $0 / b.reduce(0, +) })
            XCTAssertTrue((0...1).contains(js))
        }
    }

    func testHistogramKeepsEveryPointAndGridDivergenceOfEqualSamplesIsZero() {
        let points = Tensor(shape: [5, 2], scalars: [0, 0, 1, 1, -1, -1, 3, 0, .nan, 0])
        let histogram = PlaneHistogram(points: points, xRange: -1...1, yRange: -1...1, bins: 2)
        XCTAssertEqual(histogram.total, 5)
        XCTAssertEqual(histogram.counts, [1, 0, 0, 2, 2])  // (-1,-1) low cell; (0,0) and (1,1) top-right; 2 outside
        var random = RandomSource(seed: 4)
        let disk = ToyDistribution.unitDisk.sample(count: 2000, using: &random)
        let same = GridDivergence(real: disk, fake: disk, xRange: -1.5...1.5, yRange: -1.5...1.5, bins: 12)
        XCTAssertEqual(same.kl, 0, accuracy: 1e-12)
        XCTAssertEqual(same.js, 0, accuracy: 1e-12)
        // Far-away fakes all land in the overflow bin: nothing in common with the disk.
        let far = disk + Float(10)
        XCTAssertEqual(GridDivergence(real: disk, fake: far, xRange: -1.5...1.5, yRange: -1.5...1.5, bins: 12).js, 1, accuracy: 1e-9)
    }

    func testDiskCoverageAndCurveFit() {
        var random = RandomSource(seed: 5)
        let disk = DiskCoverage(points: ToyDistribution.unitDisk.sample(count: 2400, using: &random))
        XCTAssertEqual(disk.insideFraction, 1)
        XCTAssertEqual(disk.coveredCells, 24)
        XCTAssertEqual(disk.occupiedCells, 24)
        XCTAssertEqual(disk.cellCounts.reduce(0, +), 2400)
        let corner = DiskCoverage(points: Tensor(shape: [4, 2], scalars: [0.1, 0.05, 0.2, 0.1, 2, 2, 0.9, 0.9]))
        XCTAssertEqual(corner.insideFraction, 0.5)
        XCTAssertEqual(corner.occupiedCells, 1)
        XCTAssertEqual(corner.coveredCells, 1)  // both inside points sit in the inner ring's first sector

        let curve = CurveFit(points: Tensor(shape: [3, 2], scalars: [-10, 110, 5, 45, 20, 400]), offset: 10)
        XCTAssertEqual(curve.medianError, 10)  // errors 0, 10, 10
        XCTAssertEqual(curve.leftFraction, 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(curve.rightFraction, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(curve.dataRange, 2500)
    }

    /// One RMSProp step, p = 1 and g = 0.5 with lr 1e-3 and ρ 0.9, by hand:
    /// TensorFlow 1: v = 0.9·1 + 0.1·0.25 = 0.925, p = 1 − 1e-3·0.5/√(0.925 + 1e-10) = 0.999480125.
    /// Keras 3 (ε = 0.01, large enough to tell the forms apart): v = 0.025, p = 1 − 1e-3·0.5/√(0.025 + 0.01) = 0.997327388.
    /// PyTorch (ε = 0.01): v = 0.025, p = 1 − 1e-3·0.5/(√0.025 + 0.01) = 0.997025826.
    func testRMSPropStepMatchesHandComputedNumbers() throws {
        for (variant, epsilon, expected) in [("tensorflow1", "1e-10", 0.999_480_125), ("keras", "0.01", 0.997_327_388),
                                             ("pytorch", "0.01", 0.997_025_826)] {
            let settings = StageSettings(values: ["optimizer": "rmsprop", "optimizer-convention": variant, "learning-rate": "1e-3",
                                                  "rho": "0.9", "epsilon": epsilon], kind: TrainStage.self)
            let parameter = Parameter(name: "p", value: Tensor(shape: [1], scalars: [1]))
            let optimizer = GANConfiguration(settings).discriminatorOptimizer.make(for: [parameter])
            optimizer.update(with: [Tensor(shape: [1], scalars: [0.5])])
            XCTAssertEqual(Double(parameter.value.scalar), expected, accuracy: 1e-6, variant)
        }
    }

    /// The lesson files' words become the typed configuration: update schedules, loss families,
    /// optimizer conventions and label tricks.
    func testSettingsParseIntoTheTypedConfiguration() {
        func configuration(_ values: [String: String]) -> GANConfiguration {
            GANConfiguration(StageSettings(values: values, kind: TrainStage.self))
        }
        let defaults = configuration([:])
        XCTAssertEqual(defaults.schedule, .alternating(discriminatorSteps: 1))
        XCTAssertEqual(defaults.halvesCombination, .average)
        XCTAssertEqual(defaults.loss, .nonSaturating)
        XCTAssertEqual(defaults.generatorOptimizer.convention, .keras)
        XCTAssertEqual(defaults.generatorOptimizer.learningRate, 2e-4)
        let phases = configuration(["update": "phases", "discriminator-steps": "10", "generator-steps": "3"])
        XCTAssertEqual(phases.schedule, .phases(discriminatorSteps: 10, generatorSteps: 3))
        XCTAssertEqual(phases.halvesCombination, .sum)
        XCTAssertEqual(configuration(["update": "joint"]).schedule, .joint)
        XCTAssertEqual(configuration(["update": "shared-fakes"]).schedule, .sharedFakes)
        XCTAssertEqual(configuration(["loss": "wgan-gp", "penalty-weight": "0.1"]).loss, .wassersteinGradientPenalty(weight: 0.1))
        XCTAssertEqual(configuration(["loss": "wgan", "clip": "0.02"]).loss, .wasserstein(clip: 0.02))
        XCTAssertEqual(configuration(["loss": "least-squares"]).loss, .leastSquares)
        XCTAssertEqual(configuration(["loss": "hinge"]).loss, .hinge)
        XCTAssertEqual(configuration(["loss": "minimax"]).loss, .minimax)
        let tricks = configuration(["real-label": "0.9", "label-noise": "0.1", "label-flip": "0.05", "pack": "4",
                                    "optimizer": "rmsprop", "optimizer-convention": "pytorch", "noise": "normal"])
        XCTAssertEqual(tricks.realLabel, 0.9)
        XCTAssertEqual(tricks.labelNoise, 0.1)
        XCTAssertEqual(configuration(["soft-labels": "0.1"]).softLabels, 0.1)
        XCTAssertEqual(tricks.labelFlip, 0.05)
        XCTAssertEqual(tricks.packSize, 4)
        XCTAssertEqual(tricks.noise, .normal)
        XCTAssertEqual(tricks.discriminatorOptimizer.kind, .rmsprop)
        XCTAssertEqual(tricks.discriminatorOptimizer.convention, .pytorch)
    }

    /// Every setting name means one thing: every stage kind that reads it has the same kind of
    /// value and the same default.
    func testEverySettingHasOneDefinition() {
        var seen: [String: (kind: String, value: String?, stage: String)] = [:]
        for stage in stageKindRegistry {
            for spec in stage.readSettings {
                let kind = "\(spec.kind)"
                if let earlier = seen[spec.name] {
                    XCTAssertEqual(earlier.kind, kind, "\(spec.name): \(earlier.stage) vs \(stage.name)")
                    XCTAssertEqual(earlier.value, spec.defaultValue, "\(spec.name): \(earlier.stage) vs \(stage.name)")
                } else {
                    seen[spec.name] = (kind, spec.defaultValue, stage.name)
                }
            }
        }
    }

    /// metrics.csv: the common columns, then the columns stages add, empty where a row lacks one
    /// or a value was not measured.
    func testMetricsFileCarriesExtraColumns() {
        func row(_ step: Int, _ extra: [String: Double], generatorLoss: Float = 0.5) -> MetricsRow {
            MetricsRow(stage: 1, step: step, epoch: 1, update: "D+G", discriminatorLoss: 0.25, generatorLoss: generatorLoss,
                       realAccuracy: 1, fakeAccuracy: 0, realScore: 0.75, fakeScore: 0.25, generatorStepFakeScore: 0.3, learningRate: 0.001, extra: extra)
        }
        let lines = MetricsRow.csv([row(1, [:], generatorLoss: .nan), row(2, ["modes_captured": 7]), row(3, ["fid": 12.5, "modes_captured": 8])])
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines[0], MetricsRow.columns.joined(separator: ",") + ",modes_captured,fid")
        XCTAssertEqual(lines[1], "1,1,1,D+G,0.25,,1.0,0.0,0.75,0.25,0.3,0.001,,")
        XCTAssertEqual(lines[2], "1,2,1,D+G,0.25,0.5,1.0,0.0,0.75,0.25,0.3,0.001,7.0,")
        XCTAssertEqual(lines[3], "1,3,1,D+G,0.25,0.5,1.0,0.0,0.75,0.25,0.3,0.001,8.0,12.5")
        XCTAssertEqual(lines[4], "")
    }

    /// Snapshot labels and summary keys read as words.
    func testLabelsInWords() {
        XCTAssertEqual(panelTitle("epoch-0040"), "epoch 40")
        XCTAssertEqual(panelTitle("step-00005-g"), "step 5 · G update")
        XCTAssertEqual(panelTitle("step-00012-d"), "step 12 · D update")
        XCTAssertEqual(panelTitle("step-00003-both"), "step 3 · D and G updates")
        XCTAssertEqual(MetricNames.words("d_g_z"), "D(G(z)), mean over the last epoch")
        XCTAssertEqual(MetricNames.words("fake_mean_x"), "fake mean x")
        XCTAssertEqual(MetricNames.words("grid_d_steps_modes_mean"), "grid · 3 D steps per G step: modes captured, mean over seeds")
        XCTAssertEqual(MetricNames.words("ring_clip_gradient_norm"), "ring: mean ‖∇D(x̂)‖ of the clipped critic")
        XCTAssertEqual(MetricNames.words("ring_picture_modes_captured"), "ring as pictured (σ 0.05): modes captured")
        XCTAssertNil(MetricNames.words("no_such_metric"))
    }

    func testStandardizerRoundTrips() {
        var random = RandomSource(seed: 6)
        let points = ToyDistribution.quadratic(halfWidth: 50, offset: 10).sample(count: 5000, using: &random)
        let scaler = Standardizer(fitting: points)
        let statistics = columnStatistics(scaler.standardized(points))
        for column in 0..<2 {
            XCTAssertEqual(statistics.means[column], 0, accuracy: 1e-3)
            XCTAssertEqual(statistics.stds[column], 1, accuracy: 1e-3)
        }
        let back = scaler.restored(scaler.standardized(points)).scalars
        for (a, b) in zip(back, points.scalars) { XCTAssertEqual(a, b, accuracy: 1e-2) }
    }
}
