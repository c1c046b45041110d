import Autodiff
@testable import GAN
import Kernels
import NN
import XCTest

/// A conditional GAN: G reads [z | one-hot], D reads the image and one channel per class; the
/// fakes beside a real batch are asked for its labels.
final class ConditioningTests: XCTestCase {
    private let classes = 3

    private func trainer(_ configure: (inout GANConfiguration) -> Void = { _ in }, discriminator: String? = nil, seed: UInt64 = 5) -> GANTrainer {
        var random = RandomSource(seed: seed)
        let generator = try! Architecture(parsing: "5 -> dense 16 -> tanh -> reshape 1x4x4").build(using: &random)
        let critic = try! Architecture(parsing: discriminator ?? "4x4x4 -> conv 2 3x3 stride 2 same -> leaky 0.2 -> flatten -> dense 1")
            .build(using: &random)
        var configuration = GANConfiguration(schedule: .joint)
        configuration.classes = classes
        configure(&configuration)
        return GANTrainer(generator: generator, discriminator: critic, latentSize: 2, configuration: configuration)
    }

    private func realBatch(_ labels: [Int], using random: inout RandomSource) -> Tensor {
        GANTrainer.labelled(Tensor.uniform(shape: [labels.count, 1, 4, 4], low: -1, high: 1, using: &random), labels: labels, classes: classes)
    }

    func testNoiseAndSamplesCarryTheirLabels() {
        let gan = trainer()
        var random = RandomSource(seed: 1)
        let labels = [2, 0, 1, 1, 2]
        let real = realBatch(labels, using: &random)
        XCTAssertEqual(real.shape, [5, 4, 4, 4])
        XCTAssertEqual(gan.labels(ofSamples: real), labels)
        // Channel 1 + k of sample n is all ones exactly when k is its label.
        for (n, label) in labels.enumerated() {
            for k in 0..<classes {
                let plane = real.sliced(alongAxis: 0, n..<n + 1).sliced(alongAxis: 1, 1 + k..<2 + k).scalars
                XCTAssertEqual(plane, [Float](repeating: k == label ? 1 : 0, count: 16))
            }
        }
        let noise = gan.sampleNoise(matching: real, using: &random)
        XCTAssertEqual(noise.shape, [5, 2 + classes])
        XCTAssertEqual(gan.labels(ofNoise: noise), labels)
        XCTAssertEqual(Array(noise.scalars[2..<5]), [0, 0, 1])
        let fakes = gan.fakesForDiscriminator(from: noise)
        XCTAssertEqual(fakes.shape, [5, 4, 4, 4])
        XCTAssertEqual(gan.labels(ofSamples: fakes), labels)
        XCTAssertEqual(gan.generate(from: noise).shape, [5, 1, 4, 4], "generate gives the images alone")
        // Uniform labels when none are asked for: every class of 3 turns up in 300 draws.
        XCTAssertEqual(Set(gan.labels(ofNoise: gan.sampleNoise(count: 300, using: &random))), [0, 1, 2])
    }

    /// G's gradient reaches it through D's label channels (the concatenation is part of the graph),
    /// and agrees with finite differences; so does D's.
    func testConditionalGradientsMatchFiniteDifferences() {
        let gan = trainer()
        var random = RandomSource(seed: 2)
        let labels = [0, 1, 2, 1]
        let real = realBatch(labels, using: &random)
        let noise = gan.sampleNoise(matching: real, using: &random)
        checkParameterGradients(gan.generator.parameters, tolerance: 3e-2) {
            gan.configuration.loss.generatorLoss(fake: gan.discriminator(gan.labelled(gan.generator(Variable(noise)), noise: noise)))
        }
        let fakes = gan.fakesForDiscriminator(from: noise)
        checkParameterGradients(gan.discriminator.parameters, tolerance: 3e-2) {
            gan.configuration.loss.discriminatorLoss(real: gan.discriminator(Variable(real)), fake: gan.discriminator(Variable(fakes)),
                                                     realTargets: Tensor(shape: [4, 1], repeating: 1), fakeTargets: Tensor(shape: [4, 1]),
                                                     combination: .sum)
        }
    }

    /// A conditional critic's gradient penalty is on the gradient at the image only: for a linear
    /// critic w·x + b it is λ(‖w_image‖ − 1)², whatever the weights on the label channels.
    func testGradientPenaltyIgnoresTheLabelChannels() {
        let gan = trainer({ $0.loss = .wassersteinGradientPenalty(weight: 10); $0.schedule = .alternating(discriminatorSteps: 1) },
                          discriminator: "4x4x4 -> flatten -> dense 1")
        var random = RandomSource(seed: 3)
        let real = realBatch([0, 1, 2, 2], using: &random)
        let fakes = gan.fakesForDiscriminator(from: gan.sampleNoise(matching: real, using: &random))
        let weights = (gan.discriminator.layers[1] as! Dense).weight.value.scalars  // 64 numbers: 16 of the image, then 48 of the labels
        let imageNorm = weights.prefix(16).map { $0 * $0 }.reduce(0, +).squareRoot()
        let wholeNorm = weights.map { $0 * $0 }.reduce(0, +).squareRoot()
        XCTAssertGreaterThan(abs(wholeNorm - imageNorm), 0.05, "the label weights must matter to the whole norm for this test to tell")
        var metrics = StepMetrics()
        gan.discriminatorStep(real: real, fake: fakes, into: &metrics, using: &random)
        XCTAssertEqual(metrics.discriminatorLoss, metrics.fakeScore - metrics.realScore + 10 * (imageNorm - 1) * (imageNorm - 1), accuracy: 1e-3)
    }

    /// Every schedule asks the fakes for the real batch's labels.
    func testEveryScheduleRunsConditioned() {
        for schedule in [UpdateSchedule.alternating(discriminatorSteps: 2), .joint, .sharedFakes, .phases(discriminatorSteps: 1, generatorSteps: 2)] {
            let gan = trainer { $0.schedule = schedule; $0.batchSize = 6 }
            var random = RandomSource(seed: 4)
            var seen: [[Int]] = []
            var metrics = StepMetrics()
            gan.round(realBatch: { count, random in
                let labels = (0..<count).map { ($0 + seen.count) % self.classes }
                seen.append(labels)
                return self.realBatch(labels, using: &random)
            }, into: &metrics, using: &random) { network, real, noise, update in
                XCTAssertEqual(gan.labels(ofNoise: noise), gan.labels(ofSamples: real), "\(schedule) \(network)")
                update()
            }
            XCTAssertTrue(metrics.discriminatorLoss.isFinite && metrics.generatorLoss.isFinite, "\(schedule)")
        }
    }
}
