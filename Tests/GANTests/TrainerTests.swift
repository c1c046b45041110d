import Autodiff
import Data
@testable import GAN
import Kernels
import NN
import XCTest

final class TrainerTests: XCTestCase {
    private func trainer(_ configure: (inout GANConfiguration) -> Void, packSize: Int = 1, seed: UInt64 = 11) -> GANTrainer {
        var random = RandomSource(seed: seed)
        let generator = try! Architecture(parsing: "4 -> 16 relu -> 2").build(using: &random)
        let discriminator = try! Architecture(parsing: "\(2 * packSize) -> 16 leaky -> 1").build(using: &random)
        var configuration = GANConfiguration()
        configuration.packSize = packSize
        configuration.discriminatorOptimizer.kind = .rmsprop
        configuration.generatorOptimizer.learningRate = 1e-3
        configuration.discriminatorOptimizer.learningRate = 1e-3
        configure(&configuration)
        return GANTrainer(generator: generator, discriminator: discriminator, latentSize: 4, configuration: configuration)
    }

    private let ring = GaussianMixture.ring()

    func testDefaultIsNonSaturatingBCEAlternatingOnce() {
        let configuration = GANConfiguration()
        XCTAssertEqual(configuration.loss, .nonSaturating)
        XCTAssertEqual(configuration.schedule, .alternating(discriminatorSteps: 1))
        XCTAssertEqual(configuration.halvesCombination, .average)
        XCTAssertEqual(GANConfiguration(schedule: .joint).halvesCombination, .sum)
        XCTAssertEqual(configuration.packSize, 1)
        XCTAssertEqual(configuration.labelFlip, 0)
    }

    func testWassersteinRoundKeepsWeightsClippedAndReportsCriticValues() {
        let gan = trainer { $0.loss = .wasserstein(clip: 0.05); $0.schedule = .alternating(discriminatorSteps: 3) }
        var random = RandomSource(seed: 12)
        var metrics = StepMetrics()
        gan.round(realBatch: { ring.sample(count: $0, using: &$1) }, into: &metrics, using: &random)
        XCTAssertEqual(gan.discriminatorOptimizer.step, 3)
        XCTAssertEqual(gan.generatorOptimizer.step, 1)
        for parameter in gan.discriminator.parameters { XCTAssertLessThanOrEqual(parameter.value.scalars.map(abs).max()!, 0.05) }
        // The critic's loss is mean D(G(z)) − mean D(x), as printed.
        XCTAssertEqual(metrics.discriminatorLoss, metrics.fakeScore - metrics.realScore, accuracy: 1e-5)
    }

    func testGradientPenaltyRoundAndPacking() {
        let gan = trainer({ $0.loss = .wassersteinGradientPenalty(weight: 10); $0.batchSize = 8 }, packSize: 4)
        var random = RandomSource(seed: 13)
        let batch = Tensor.uniform(shape: [8, 2], low: -1, high: 1, using: &random)
        XCTAssertEqual(gan.packed(batch).shape, [2, 8])
        XCTAssertEqual(Array(gan.packed(batch).scalars.prefix(8)), Array(batch.scalars.prefix(8)))
        var metrics = StepMetrics()
        gan.round(realBatch: { XCTAssertEqual($0, 32); return ring.sample(count: $0, using: &$1) }, into: &metrics, using: &random)
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
        for _ in 0..<200 {
            gan.discriminatorStep(real: real, fake: gan.generate(count: 64, using: &random), into: &metrics, using: &random)
        }
        XCTAssertGreaterThan(metrics.discriminatorLoss, 0.3)
    }

    /// Seed 001's uniform smoothing: real targets from [0.9, 1], fake from [0, 0.1], spread over each.
    func testSoftLabelsAreDrawnInwardFromEachEnd() {
        let gan = trainer { $0.softLabels = 0.1 }
        var random = RandomSource(seed: 15)
        let real = gan.labels(count: 4_000, value: 1, using: &random).scalars
        let fake = gan.labels(count: 4_000, value: 0, using: &random).scalars
        for (targets, low) in [(real, Float(0.9)), (fake, Float(0))] {
            XCTAssertGreaterThanOrEqual(targets.min()!, low)
            XCTAssertLessThanOrEqual(targets.max()!, low + 0.1 + 1e-6)
            XCTAssertLessThan(targets.min()!, low + 0.005)
            XCTAssertGreaterThan(targets.max()!, low + 0.095)
            XCTAssertEqual(targets.reduce(0, +) / Float(targets.count), low + 0.05, accuracy: 0.003)
        }
        // Off, the targets are exactly the labels and no random number is drawn.
        let plain = trainer { _ in }
        var first = RandomSource(seed: 16), second = RandomSource(seed: 16)
        XCTAssertEqual(plain.labels(count: 3, value: 1, using: &first).scalars, [1, 1, 1])
        XCTAssertEqual(first.nextBits(), second.nextBits())
    }

    /// Each family's D and G losses, on outputs whose values are known, against the formulas.
    func testLossFamiliesMatchTheirFormulas() {
        let realOutputs: [Float] = [0.5, -1.5, 2], fakeOutputs: [Float] = [-0.25, 1, 3]
        let real = Variable(Tensor(shape: [3, 1], scalars: realOutputs)), fake = Variable(Tensor(shape: [3, 1], scalars: fakeOutputs))
        let ones = Tensor(shape: [3, 1], repeating: 1), zeros = Tensor(shape: [3, 1])
        func mean(_ values: [Float], _ f: (Float) -> Float) -> Float { values.map(f).reduce(0, +) / Float(values.count) }
        func softplus(_ x: Float) -> Float { log(1 + exp(x)) }
        func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }
        let bceReal = mean(realOutputs) { -log(sigmoid($0)) }, bceFake = mean(fakeOutputs) { -log(1 - sigmoid($0)) }
        let cases: [(LossFamily, Float, Float)] = [
            (.nonSaturating, (bceReal + bceFake) / 2, mean(fakeOutputs) { -log(sigmoid($0)) }),
            (.minimax, (bceReal + bceFake) / 2, mean(fakeOutputs) { log(1 - sigmoid($0)) }),
            (.leastSquares, (mean(realOutputs) { ($0 - 1) * ($0 - 1) } + mean(fakeOutputs) { $0 * $0 }) / 2,
             0.5 * mean(fakeOutputs) { ($0 - 1) * ($0 - 1) }),
            (.hinge, mean(realOutputs) { max(0, 1 - $0) } + mean(fakeOutputs) { max(0, 1 + $0) }, -mean(fakeOutputs) { $0 }),
            (.wasserstein(clip: 0.01), mean(fakeOutputs) { $0 } - mean(realOutputs) { $0 }, -mean(fakeOutputs) { $0 }),
        ]
        for (family, discriminatorLoss, generatorLoss) in cases {
            let d = family.discriminatorLoss(real: real, fake: fake, realTargets: ones, fakeTargets: zeros, combination: .average)
            XCTAssertEqual(d.value.scalar, discriminatorLoss, accuracy: 1e-5, "\(family)")
            XCTAssertEqual(family.generatorLoss(fake: fake).value.scalar, generatorLoss, accuracy: 1e-5, "\(family)")
        }
        let summed = LossFamily.nonSaturating.discriminatorLoss(real: real, fake: fake, realTargets: ones, fakeTargets: zeros, combination: .sum)
        XCTAssertEqual(summed.value.scalar, bceReal + bceFake, accuracy: 1e-5)
        _ = softplus
    }

    /// Every family's D and G losses have the engine's gradients (finite differences through a small D).
    func testLossFamiliesGradients() {
        for family in [LossFamily.nonSaturating, .minimax, .leastSquares, .hinge, .wasserstein(clip: 1)] {
            var random = RandomSource(seed: 21)
            let critic = Sequential([Dense(inputSize: 2, outputSize: 4, using: &random), Tanh(), Dense(inputSize: 4, outputSize: 1, using: &random)])
            let real = Tensor.uniform(shape: [6, 2], low: -1, high: 1, using: &random)
            let fake = Tensor.uniform(shape: [6, 2], low: -1, high: 1, using: &random)
            let targets = (Tensor(shape: [6, 1], repeating: 0.9), Tensor(shape: [6, 1]))
            checkParameterGradients(critic.parameters, step: 1e-2, tolerance: 3e-2) {
                family.discriminatorLoss(real: critic(Variable(real)), fake: critic(Variable(fake)),
                                         realTargets: targets.0, fakeTargets: targets.1, combination: .average)
            }
            checkParameterGradients(critic.parameters, step: 1e-2, tolerance: 3e-2) { family.generatorLoss(fake: critic(Variable(fake))) }
        }
    }

    /// The joint step takes both gradients at the same parameters: D moves as a lone D step would,
    /// G as a lone G step would.
    func testJointStepIsTwoSimultaneousUpdates() {
        let configure: (inout GANConfiguration) -> Void = { $0.schedule = .joint; $0.halvesCombination = .sum }
        var random = RandomSource(seed: 12)
        let real = ToyDistribution.unitDisk.sample(count: 16, using: &random)
        let noise = Tensor.uniform(shape: [16, 4], low: -1, high: 1, using: &random)
        let joint = trainer(configure), discriminatorOnly = trainer(configure), generatorOnly = trainer(configure)
        var metrics = StepMetrics(), ignored = StepMetrics()
        joint.jointStep(real: real, noise: noise, into: &metrics, using: &random)
        discriminatorOnly.discriminatorStep(real: real, fake: discriminatorOnly.generate(from: noise), into: &ignored, using: &random)
        generatorOnly.generatorStep(noise: noise, into: &ignored)
        XCTAssertEqual(joint.discriminator.parameters.map(\.value.scalars), discriminatorOnly.discriminator.parameters.map(\.value.scalars))
        XCTAssertEqual(joint.generator.parameters.map(\.value.scalars), generatorOnly.generator.parameters.map(\.value.scalars))
        XCTAssertNotEqual(joint.generator.parameters.map(\.value.scalars), discriminatorOnly.generator.parameters.map(\.value.scalars))
    }

    /// Shared fakes: the G update goes through the D the D step just updated, on the same samples.
    func testSharedFakesUpdatesGThroughTheUpdatedD() {
        var random = RandomSource(seed: 31)
        let real = ToyDistribution.unitDisk.sample(count: 16, using: &random)
        let shared = trainer { $0.schedule = .sharedFakes; $0.batchSize = 16 }
        let byHand = trainer { $0.schedule = .sharedFakes; $0.batchSize = 16 }
        var draws = random, byHandDraws = random
        var metrics = StepMetrics(), ignored = StepMetrics()
        shared.round(realBatch: { _, _ in real }, into: &metrics, using: &draws)
        let noise = byHand.sampleNoise(count: 16, using: &byHandDraws)
        byHand.discriminatorStep(real: real, fake: byHand.generate(from: noise), into: &ignored, using: &byHandDraws)
        byHand.generatorStep(noise: noise, into: &ignored)
        XCTAssertEqual(shared.discriminator.parameters.map(\.value.scalars), byHand.discriminator.parameters.map(\.value.scalars))
        XCTAssertEqual(shared.generator.parameters.map(\.value.scalars), byHand.generator.parameters.map(\.value.scalars))
    }

    /// Phases: k D steps and then m G steps on one batch; each network's optimizer counts them.
    func testPhasesCountUpdates() {
        let gan = trainer { $0.schedule = .phases(discriminatorSteps: 3, generatorSteps: 2) }
        var random = RandomSource(seed: 32)
        var metrics = StepMetrics(), batches = 0
        var seen: [UpdatedNetwork] = []
        gan.round(realBatch: { batches += 1; return ring.sample(count: $0, using: &$1) }, into: &metrics, using: &random) { network, _, _, update in
            seen.append(network)
            update()
        }
        XCTAssertEqual(batches, 1)
        XCTAssertEqual(seen, [.discriminator, .discriminator, .discriminator, .generator, .generator])
        XCTAssertEqual(gan.discriminatorOptimizer.step, 3)
        XCTAssertEqual(gan.generatorOptimizer.step, 2)
    }

    /// A single update measures only its own network.
    func testSingleUpdateLeavesTheOtherNetworkAlone() {
        let gan = trainer { _ in }
        var random = RandomSource(seed: 33)
        let before = gan.generator.parameters.map(\.value.scalars)
        let metrics = gan.singleUpdate(.discriminator, realBatch: { ring.sample(count: $0, using: &$1) }, using: &random)
        XCTAssertEqual(gan.generator.parameters.map(\.value.scalars), before)
        XCTAssertTrue(metrics.generatorLoss.isNaN)
        XCTAssertTrue(metrics.discriminatorLoss.isFinite)
    }

    func testLinearLearningRateDecay() {
        let gan = trainer { $0.generatorOptimizer.learningRate = 1e-3; $0.discriminatorOptimizer.learningRate = 2e-3 }
        gan.scheduleLearningRates(step: 50, of: 100, decayTo: 0.5)
        XCTAssertEqual(gan.generatorOptimizer.learningRate, 0.75e-3, accuracy: 1e-9)
        XCTAssertEqual(gan.discriminatorOptimizer.learningRate, 1.5e-3, accuracy: 1e-9)
    }
}

/// The Fashion-MNIST tutorial's iteration on a network small enough to follow by hand: G is one
/// Dense 1 → 2 and a batch normalisation (momentum 0.8), D one Dense 2 → 1, both on plain SGD.
final class KerasLoopTests: XCTestCase {
    private let rate: Float = 0.5
    private let runningMean: [Float] = [0.3, -0.2], runningVariance: [Float] = [2.0, 0.5]

    private func tutorialTrainer(halves: DiscriminatorHalves, fakesMode: NetworkMode) -> GANTrainer {
        var random = RandomSource(seed: 1)
        let dense = Dense(inputSize: 1, outputSize: 2, using: &random)
        dense.weight.value = Tensor(shape: [2, 1], scalars: [1.5, -0.5])
        dense.bias!.value = Tensor(shape: [2], scalars: [0.1, 0.2])
        let normalization = BatchNormalization(featureCount: 2, momentum: 0.8)
        normalization.runningMean.value = Tensor(shape: [2], scalars: runningMean)
        normalization.runningVariance.value = Tensor(shape: [2], scalars: runningVariance)
        let judge = Dense(inputSize: 2, outputSize: 1, using: &random)
        judge.weight.value = Tensor(shape: [1, 2], scalars: [0.8, -0.3])
        judge.bias!.value = Tensor(shape: [1], scalars: [0.05])
        var configuration = GANConfiguration(schedule: .alternating(discriminatorSteps: 1))
        configuration.discriminatorHalves = halves
        configuration.fakesMode = fakesMode
        for optimizer in [\GANConfiguration.generatorOptimizer, \GANConfiguration.discriminatorOptimizer] {
            configuration[keyPath: optimizer].kind = .sgd
            configuration[keyPath: optimizer].learningRate = rate
        }
        return GANTrainer(generator: Sequential([dense, normalization]), discriminator: Sequential([judge]), latentSize: 1,
                          configuration: configuration)
    }

    private func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

    /// One SGD step of a logistic D (weights w, bias b) on points with one target, by hand.
    private func logisticStep(_ w: [Double], _ b: Double, points: [[Double]], target: Double) -> (w: [Double], b: Double, loss: Double, score: Double) {
        var gradient = [0.0, 0.0], gradientB = 0.0, loss = 0.0, score = 0.0
        for x in points {
            let p = sigmoid(w[0] * x[0] + w[1] * x[1] + b)
            gradient[0] += (p - target) * x[0] / Double(points.count)
            gradient[1] += (p - target) * x[1] / Double(points.count)
            gradientB += (p - target) / Double(points.count)
            loss -= (target * log(p) + (1 - target) * log(1 - p)) / Double(points.count)
            score += p / Double(points.count)
        }
        let r = Double(rate)
        return ([w[0] - r * gradient[0], w[1] - r * gradient[1]], b - r * gradientB, loss, score)
    }

    func testDiscriminatorTakesRealThenFakeAsTwoUpdatesOnInferenceModeFakes() {
        let gan = tutorialTrainer(halves: .separately, fakesMode: .inference)
        let noise = Tensor(shape: [2, 1], scalars: [1, -2])
        let real = Tensor(shape: [2, 2], scalars: [1, 1, -0.5, 2])

        // Inference mode: (Wz + b − running mean) / √(running variance + 0.001), running statistics untouched.
        let fakes = gan.fakesForDiscriminator(from: noise)
        var expected: [[Double]] = []
        for z in [1.0, -2.0] {
            let h = [1.5 * z + 0.1, -0.5 * z + 0.2]
            expected.append((0..<2).map { (h[$0] - Double(runningMean[$0])) / (Double(runningVariance[$0]) + 0.001).squareRoot() })
        }
        for (index, value) in fakes.scalars.enumerated() { XCTAssertEqual(Double(value), expected[index / 2][index % 2], accuracy: 1e-5) }
        let normalization = gan.generator.layers[1] as! BatchNormalization
        XCTAssertEqual(normalization.runningMean.value.scalars, runningMean)
        XCTAssertTrue(gan.generator.isTraining, "G is back in training mode after making D's fakes")

        // D: a step on the real half (target 1), then one on the fake half (target 0) by the stepped D.
        var metrics = StepMetrics(), random = RandomSource(seed: 2)
        gan.discriminatorStep(real: real, fake: fakes, into: &metrics, using: &random)
        let first = logisticStep([0.8, -0.3], 0.05, points: [[1, 1], [-0.5, 2]], target: 1)
        let second = logisticStep(first.w, first.b, points: expected, target: 0)
        let judge = gan.discriminator.layers[0] as! Dense
        XCTAssertEqual(Double(judge.weight.value.scalars[0]), second.w[0], accuracy: 1e-5)
        XCTAssertEqual(Double(judge.weight.value.scalars[1]), second.w[1], accuracy: 1e-5)
        XCTAssertEqual(Double(judge.bias!.value.scalars[0]), second.b, accuracy: 1e-5)
        XCTAssertEqual(gan.discriminatorOptimizer.step, 2)
        XCTAssertEqual(Double(metrics.discriminatorLoss), (first.loss + second.loss) / 2, accuracy: 1e-5)
        XCTAssertEqual(Double(metrics.fakeScore), second.score, accuracy: 1e-5)

        // G: training mode, so the batch's statistics normalise and the running ones move once.
        gan.generatorStep(noise: noise, into: &metrics)
        let batchMean = [(1.5 * 1 + 0.1 + 1.5 * -2 + 0.1) / 2, (-0.5 * 1 + 0.2 + -0.5 * -2 + 0.2) / 2]
        for channel in 0..<2 {
            XCTAssertEqual(Double(normalization.runningMean.value.scalars[channel]), 0.8 * Double(runningMean[channel]) + 0.2 * batchMean[channel],
                           accuracy: 1e-5)
        }
    }

    func testOneUpdateOnBothHalvesDiffersFromTwo() {
        let real = Tensor(shape: [2, 2], scalars: [1, 1, -0.5, 2]), noise = Tensor(shape: [2, 1], scalars: [1, -2])
        var weights: [[Float]] = []
        for halves in [DiscriminatorHalves.together, .separately] {
            let gan = tutorialTrainer(halves: halves, fakesMode: .inference)
            var metrics = StepMetrics(), random = RandomSource(seed: 2)
            gan.discriminatorStep(real: real, fake: gan.fakesForDiscriminator(from: noise), into: &metrics, using: &random)
            XCTAssertEqual(gan.discriminatorOptimizer.step, halves == .together ? 1 : 2)
            weights.append(gan.discriminator.parameters[0].value.scalars)
        }
        XCTAssertGreaterThan(abs(weights[0][0] - weights[1][0]), 1e-3)
    }

    func testTrainingModeFakesUseTheBatchStatistics() {
        let gan = tutorialTrainer(halves: .separately, fakesMode: .training)
        let fakes = gan.fakesForDiscriminator(from: Tensor(shape: [2, 1], scalars: [1, -2]))
        // Two samples normalised by their own mean and (biased) variance: ±1 per channel, up to ε.
        for value in fakes.scalars { XCTAssertEqual(abs(value), 1, accuracy: 1e-3) }
    }
}

final class InterpolationTests: XCTestCase {
    func testLinearAndSphericalWalks() {
        let (a, b): ([Float], [Float]) = ([3, 0], [0, 4])
        let line = interpolate(from: a, to: b, count: 3, spherical: false)
        XCTAssertEqual(line, [[3, 0], [1.5, 2], [0, 4]])
        let arc = interpolate(from: a, to: b, count: 3, spherical: true)
        XCTAssertEqual(arc[0][0], 3, accuracy: 1e-5)
        XCTAssertEqual(arc[2][1], 4, accuracy: 1e-5)
        // Halfway along the quarter circle: at 45°, with the mean of the two norms (3.5).
        XCTAssertEqual(arc[1][0], 3.5 / Float(2).squareRoot(), accuracy: 1e-5)
        XCTAssertEqual(arc[1][1], 3.5 / Float(2).squareRoot(), accuracy: 1e-5)
        // Parallel ends fall back to the straight line.
        XCTAssertEqual(interpolate(from: [1, 1], to: [2, 2], count: 2, spherical: true), [[1, 1], [2, 2]])
    }
}
