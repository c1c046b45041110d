import Data
import Foundation
import GAN
import Kernels
import NN

/// The knobs of lesson 4's lab: one GAN on a Gaussian mixture, with every fix a setting.
struct CollapseMethod {
    var generator: Architecture
    var discriminator: Architecture
    var loss = LossFamily.nonSaturating
    var criticSteps = 1
    var packSize = 1
    var realLabel: Float = 1
    var labelNoise: Float = 0
    var labelFlip: Float = 0
    var minibatchKernels = 0
    var minibatchKernelSize = 5
    var optimizer = "adam"
    var learningRate: Float = 2e-3
    var beta1: Float = 0.5
    var beta2: Float = 0.999
    var batchSize = 64
    var noise = NoiseDistribution.normal
    /// Both learning rates fall linearly to this fraction of their start over the run (1: constant).
    var decayTo: Float = 1

    /// Reads the stage's settings (see `collapseSettings`).
    init(_ settings: StageSettings) throws {
        generator = try Architecture(parsing: settings.text("generator"))
        discriminator = try Architecture(parsing: settings.text("discriminator"))
        switch settings.text("loss") {
        case "wgan": loss = .wasserstein(clip: Float(settings.number("clip")))
        case "wgan-gp": loss = .wassersteinGradientPenalty(weight: Float(settings.number("penalty-weight")))
        default: loss = .nonSaturating
        }
        criticSteps = settings.integer("critic-steps")
        packSize = settings.integer("pack")
        realLabel = Float(settings.number("real-label"))
        labelNoise = Float(settings.number("label-noise"))
        labelFlip = Float(settings.number("label-flip"))
        minibatchKernels = settings.integer("minibatch-kernels")
        minibatchKernelSize = settings.integer("minibatch-kernel-size")
        optimizer = settings.text("optimizer")
        learningRate = Float(settings.number("learning-rate"))
        beta1 = Float(settings.number("beta1"))
        beta2 = Float(settings.number("beta2"))
        batchSize = settings.integer("batch-size")
        decayTo = Float(settings.number("decay-to"))
        noise = settings.text("noise") == "uniform" ? .uniform(low: -1, high: 1) : .normal
    }

    /// A short description for the terminal and the scoreboard.
    var summary: String {
        var parts: [String] = []
        switch loss {
        case .nonSaturating: parts.append("BCE")
        case .wasserstein(let clip): parts.append("WGAN, clip ±\(clip)")
        case .wassersteinGradientPenalty(let weight): parts.append("WGAN-GP, λ = \(weight)")
        }
        if criticSteps > 1 { parts.append("\(criticSteps) D steps per G step") }
        if packSize > 1 { parts.append("packs of \(packSize)") }
        if realLabel < 1 { parts.append("real label \(realLabel)") }
        if labelNoise > 0 { parts.append("label noise ±\(labelNoise)") }
        if labelFlip > 0 { parts.append("\(Int((labelFlip * 100).rounded())) % labels flipped") }
        if minibatchKernels > 0 { parts.append("minibatch discrimination \(minibatchKernels)×\(minibatchKernelSize)") }
        parts.append("\(optimizer) \(learningRate)" + (decayTo < 1 ? " decaying linearly to \(decayTo)×" : ""))
        return parts.joined(separator: ", ")
    }

    /// The trainer, with D reading packs of `packSize` samples and, if asked, comparing samples.
    /// Both networks work in normalised units: G's output is multiplied by `dataScale` and D's
    /// input divided by it (the grid, reaching ±4, is seen as reaching ±1).
    func makeTrainer(dataScale: Float = 1, using random: inout RandomSource) -> GANTrainer {
        let generatorNetwork = Sequential(generator.build(using: &random).layers + [FixedScale(dataScale)])
        var discriminatorShape = discriminator
        discriminatorShape.inputSize = discriminator.inputSize * packSize
        let discriminatorLayers = minibatchKernels > 0
            ? discriminatorShape.buildWithMinibatchDiscrimination(kernels: minibatchKernels, kernelSize: minibatchKernelSize, using: &random)
            : discriminatorShape.build(using: &random)
        let discriminatorNetwork = Sequential([FixedScale(1 / dataScale)] + discriminatorLayers.layers)
        var settings = TrainingSettings()
        settings.batchSize = batchSize
        settings.noise = noise
        settings.loss = loss
        settings.criticSteps = criticSteps
        settings.packSize = packSize
        settings.realLabel = realLabel
        settings.labelNoise = labelNoise
        settings.labelFlip = labelFlip
        return GANTrainer(generator: generatorNetwork, discriminator: discriminatorNetwork, latentSize: generator.inputSize,
                          generatorOptimizer: makeOptimizer(generatorNetwork.parameters),
                          discriminatorOptimizer: makeOptimizer(discriminatorNetwork.parameters), settings: settings)
    }

    private func makeOptimizer(_ parameters: [Parameter]) -> Optimizer {
        switch optimizer {
        case "rmsprop": return RMSProp(parameters: parameters, learningRate: learningRate)
        case "sgd": return SGD(parameters: parameters, learningRate: learningRate)
        default: return Adam(parameters: parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, convention: .pytorch)
        }
    }
}

/// Settings of the mixtures (shared by the lesson-4 stage kinds).
let mixtureSettings = [
    SettingSpec("mixture", .choice(["ring", "grid"]), "ring"),
    SettingSpec("mixture-std", .number(1e-4...10), "0.01"),
]

/// The lab's knobs, with the settings of lesson 4's vanilla GAN as defaults.
let collapseSettings = mixtureSettings + [
    SettingSpec("generator", .architecture, "2 -> 128 relu -> 128 relu -> 2"),
    SettingSpec("discriminator", .architecture, "2 -> 128 leaky -> 128 leaky -> 1"),
    SettingSpec("noise", .choice(["uniform", "normal"]), "normal"),
    SettingSpec("loss", .choice(["bce", "wgan", "wgan-gp"]), "bce"),
    SettingSpec("clip", .number(1e-6...10), "0.01"),
    SettingSpec("penalty-weight", .number(0...1e4), "0.1"),
    SettingSpec("critic-steps", .integer(1...100), "1"),
    SettingSpec("pack", .integer(1...64), "1"),
    SettingSpec("real-label", .number(0.5...1), "1"),
    SettingSpec("label-noise", .number(0...0.5), "0"),
    SettingSpec("label-flip", .number(0...0.5), "0"),
    SettingSpec("minibatch-kernels", .integer(0...1000), "0"),
    SettingSpec("minibatch-kernel-size", .integer(1...100), "5"),
    SettingSpec("optimizer", .choice(["adam", "rmsprop", "sgd"]), "adam"),
    SettingSpec("learning-rate", .number(1e-8...10), "2e-3"),
    SettingSpec("beta1", .number(0...0.999999), "0.5"),
    SettingSpec("beta2", .number(0...0.999999), "0.999"),
    SettingSpec("batch-size", .integer(1...65_536), "64"),
    SettingSpec("decay-to", .number(0...1), "0.01"),
    SettingSpec("steps", .integer(1...10_000_000), "3000"),
    SettingSpec("samples", .integer(1...1_000_000), "2500"),
]

/// Problems between lab settings: shapes that do not fit the mixtures.
func checkCollapseSettings(_ settings: StageSettings) -> [String] {
    var problems = checkModels(settings)
    if let generator = try? Architecture(parsing: settings.text("generator")), generator.outputSize != 2 {
        problems.append("the mixtures are 2-D, so the generator must make 2 numbers, not \(generator.outputSize)")
    }
    if settings.integer("minibatch-kernels") > 0, let d = try? Architecture(parsing: settings.text("discriminator")), d.blocks.count < 2 {
        problems.append("minibatch discrimination needs a hidden layer in the discriminator")
    }
    if settings.integer("minibatch-kernels") > 0, settings.text("loss") == "wgan-gp" {
        problems.append("minibatch discrimination cannot be combined with wgan-gp: its fused layer has no second derivative for the penalty")
    }
    return problems
}

extension StageSettings {
    /// The mixture these settings name: ring (8 modes, radius 1) or grid (25 modes, spacing 2).
    var mixture: GaussianMixture {
        let std = number("mixture-std")
        return text("mixture") == "grid" ? .grid(std: std) : .ring(std: std)
    }
}

extension GaussianMixture {
    /// The largest coordinate of any mode (ring 1, grid 4).
    var reach: Double { means.map { max(abs($0.x), abs($0.y)) }.max() ?? 1 }

    /// A square view with a margin around every mode.
    var axes: ClosedRange<Double> { -(reach * 1.375)...(reach * 1.375) }
}

/// One training run of the lab on a mixture, measured with the literature's metrics.
final class CollapseRun {
    let method: CollapseMethod
    let mixture: GaussianMixture
    let trainer: GANTrainer
    var random: RandomSource
    /// The real batches' own stream, so data draws do not depend on how many draws training made.
    private var dataRandom: RandomSource
    private(set) var step = 0
    private(set) var lastMetrics = StepMetrics()

    init(method: CollapseMethod, mixture: GaussianMixture, seed: UInt64) {
        self.method = method
        self.mixture = mixture
        var random = RandomSource(seed: seed)
        trainer = method.makeTrainer(dataScale: Float(mixture.reach), using: &random)
        dataRandom = random.split()
        self.random = random
    }

    /// `count` rounds of the game (each `criticSteps` D updates and one G update) of a run of
    /// `total` rounds, over which the learning rates decay as the method says.
    /// Throws `TrainingInterrupted` (with nothing to save of its own) when Ctrl-C asked to stop.
    func train(steps count: Int, of total: Int) throws {
        for _ in 0..<count {
            if Interruption.requested { throw TrainingInterrupted(outcome: StageOutcome()) }
            let rate = method.learningRate * (1 - (1 - method.decayTo) * Float(step) / Float(max(total, 1)))
            trainer.generatorOptimizer.learningRate = rate
            trainer.discriminatorOptimizer.learningRate = rate
            step += 1
            var metrics = StepMetrics()
            var data = dataRandom
            let mixture = self.mixture
            trainer.trainingStep(realBatch: { mixture.sample(count: $0, using: &data) }, into: &metrics, using: &random)
            dataRandom = data
            guard metrics.discriminatorLoss.isFinite, metrics.generatorLoss.isFinite else {
                throw LessonError(["training diverged at step \(step) (D loss \(metrics.discriminatorLoss), G loss \(metrics.generatorLoss))"])
            }
            lastMetrics = metrics
        }
    }

    /// The literature's metrics on `count` fresh samples.
    func coverage(samples count: Int) -> (coverage: ModeCoverage, samples: Tensor) {
        let samples = trainer.generate(count: count, using: &random)
        return (ModeCoverage(samples: samples, means: mixture.means, std: mixture.std), samples)
    }
}
