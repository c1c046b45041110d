import Autodiff
import Data
@testable import GAN
import Kernels
import NN
import XCTest

final class TrainerTests: XCTestCase {
    private func trainer(_ configure: (inout TrainingSettings) -> Void, packSize: Int = 1) -> GANTrainer {
        var random = RandomSource(seed: 11)
        let generator = try! Architecture(parsing: "4 -> 16 relu -> 2").build(using: &random)
        let discriminator = try! Architecture(parsing: "\(2 * packSize) -> 16 leaky -> 1").build(using: &random)
        var settings = TrainingSettings()
        settings.packSize = packSize
        configure(&settings)
        return GANTrainer(generator: generator, discriminator: discriminator, latentSize: 4,
                          generatorOptimizer: Adam(parameters: generator.parameters, learningRate: 1e-3),
                          discriminatorOptimizer: RMSProp(parameters: discriminator.parameters, learningRate: 1e-3),
                          settings: settings)
    }

    func testDefaultIsNonSaturatingBCE() {
        let settings = TrainingSettings()
        XCTAssertEqual(settings.loss, .nonSaturating)
        XCTAssertEqual(settings.criticSteps, 1)
        XCTAssertEqual(settings.packSize, 1)
        XCTAssertEqual(settings.labelFlip, 0)
    }

    func testWassersteinStepKeepsWeightsClippedAndReportsCriticValues() {
        let gan = trainer { $0.loss = .wasserstein(clip: 0.05); $0.criticSteps = 3 }
        var random = RandomSource(seed: 12)
        var metrics = StepMetrics()
        let ring = GaussianMixture.ring()
        var data = RandomSource(seed: 15)
        gan.trainingStep(realBatch: { ring.sample(count: $0, using: &data) }, into: &metrics, using: &random)
        XCTAssertEqual(gan.discriminatorOptimizer.step, 3)
        XCTAssertEqual(gan.generatorOptimizer.step, 1)
        for parameter in gan.discriminator.parameters { XCTAssertLessThanOrEqual(parameter.value.scalars.map(abs).max()!, 0.05) }
        // The critic's loss is mean D(G(z)) − mean D(x), as printed.
        XCTAssertEqual(metrics.discriminatorLoss, metrics.fakeScore - metrics.realScore, accuracy: 1e-5)
    }

    func testGradientPenaltyStepAndPacking() {
        let gan = trainer({ $0.loss = .wassersteinGradientPenalty(weight: 10); $0.batchSize = 8 }, packSize: 4)
        var random = RandomSource(seed: 13)
        let batch = Tensor.uniform(shape: [8, 2], low: -1, high: 1, using: &random)
        XCTAssertEqual(gan.packed(batch).shape, [2, 8])
        XCTAssertEqual(Array(gan.packed(batch).scalars.prefix(8)), Array(batch.scalars.prefix(8)))
        var metrics = StepMetrics()
        let ring = GaussianMixture.ring()
        var data = RandomSource(seed: 16)
        gan.trainingStep(realBatch: { XCTAssertEqual($0, 32); return ring.sample(count: $0, using: &data) }, into: &metrics, using: &random)
        XCTAssertTrue(metrics.discriminatorLoss.isFinite && metrics.generatorLoss.isFinite)
        // Penalised: the loss is the critic gap plus a non-negative penalty.
        XCTAssertGreaterThanOrEqual(metrics.discriminatorLoss, metrics.fakeScore - metrics.realScore - 1e-5)
    }

    func testLabelFlipFlipsAboutTheRequestedShare() {
        let gan = trainer { $0.labelFlip = 0.25 }
        var random = RandomSource(seed: 14)
        var metrics = StepMetrics()
        // With a quarter of labels flipped D cannot be sure: its BCE stays well above zero on a separable batch.
        let real = Tensor(shape: [64, 2], repeating: 3)
        for _ in 0..<200 { gan.discriminatorStep(real: real, into: &metrics, using: &random) }
        XCTAssertGreaterThan(metrics.discriminatorLoss, 0.3)
    }
}
