import Data
import Foundation
import GAN
import Kernels
import NN

/// Lesson 4's lab: one GAN on a Gaussian mixture, with every fix a setting.
struct CollapseMethod {
    var generator: Architecture
    var discriminator: Architecture
    var configuration: GANConfiguration
    var minibatchKernels = 0
    var minibatchKernelSize = 5
    /// Both learning rates fall linearly to this fraction of their start over the run (1: constant).
    var decayTo: Float = 1

    /// Reads the stage's settings (see `collapseSettings`).
    init(_ settings: StageSettings) throws {
        generator = try Architecture(parsing: settings.text("generator"))
        discriminator = try Architecture(parsing: settings.text("discriminator"))
        configuration = GANConfiguration(settings)
        minibatchKernels = settings.integer("minibatch-kernels")
        minibatchKernelSize = settings.integer("minibatch-kernel-size")
        decayTo = Float(settings.number("decay-to"))
    }

    /// A short description for the terminal and the scoreboard.
    var summary: String {
        let optimizer = configuration.discriminatorOptimizer
        return [configuration.summary,
                minibatchKernels > 0 ? "minibatch discrimination \(minibatchKernels)×\(minibatchKernelSize)" : "",
                "\(optimizer.kind.rawValue) \(optimizer.learningRate)" + (decayTo < 1 ? " decaying linearly to \(decayTo)×" : "")]
            .filter { !$0.isEmpty }.joined(separator: ", ")
    }

    /// The trainer, with D reading packs of `packSize` samples and, if asked, comparing samples.
    /// Both networks work in normalised units: G's output is multiplied by `dataScale` and D's
    /// input divided by it (the grid, reaching ±4, is seen as reaching ±1).
    func makeTrainer(dataScale: Float = 1, using random: inout RandomSource) -> GANTrainer {
        let generatorNetwork = Sequential(generator.build(using: &random).layers + [FixedScale(dataScale)])
        var discriminatorShape = discriminator
        discriminatorShape.inputSize = discriminator.inputSize * configuration.packSize
        let discriminatorLayers = minibatchKernels > 0
            ? discriminatorShape.buildWithMinibatchDiscrimination(kernels: minibatchKernels, kernelSize: minibatchKernelSize, using: &random)
            : discriminatorShape.build(using: &random)
        let discriminatorNetwork = Sequential([FixedScale(1 / dataScale)] + discriminatorLayers.layers)
        return GANTrainer(generator: generatorNetwork, discriminator: discriminatorNetwork, latentSize: generator.inputSize,
                          configuration: configuration)
    }
}

/// Settings of the mixtures (shared by the lesson-4 stage kinds).
let mixtureSettings = [
    SettingSpec("mixture", .choice(["ring", "grid"]), "ring"),
    SettingSpec("mixture-std", .number(1e-4...10), "0.01"),
]

/// The lab's knobs: the training settings every training stage reads, minibatch discrimination,
/// and the run's length.
let collapseSettings = mixtureSettings + modelSettings + trainingSettings + [
    SettingSpec("minibatch-kernels", .integer(0...1000), "0"),
    SettingSpec("minibatch-kernel-size", .integer(1...100), "5"),
    SettingSpec("steps", .integer(1...10_000_000), "3000"),
    SettingSpec("samples", .integer(1...1_000_000), "2500"),
]

/// Problems between lab settings: shapes that do not fit the mixtures.
func checkCollapseSettings(_ settings: StageSettings) -> [String] {
    var problems = checkModels(settings) + checkTraining(settings)
    if let generator = try? Architecture(parsing: settings.text("generator")), generator.outputSize != 2 {
        problems.append("the mixtures are 2-D, so the generator must make 2 numbers, not \(generator.outputSize)")
    }
    if settings.integer("minibatch-kernels") > 0, let d = try? Architecture(parsing: settings.text("discriminator")), d.blocks.count < 2 {
        problems.append("minibatch discrimination needs a hidden layer in the discriminator")
    }
    if settings.integer("minibatch-kernels") > 0, settings.text("loss") == LossName.wganGP.rawValue {
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

/// One training run of the lab on a mixture, on the one training loop, measured with the literature's metrics.
final class CollapseRun {
    let method: CollapseMethod
    let mixture: GaussianMixture
    let trainer: GANTrainer
    let loop: TrainingLoop

    /// `totalSteps`: the run's length, over which the learning rates decay as the method says;
    /// `stage`: the stage whose metrics.csv rows the steps become (nil: no rows, as in a scoreboard).
    init(method: CollapseMethod, mixture: GaussianMixture, seed: UInt64, totalSteps: Int, stage: Int? = nil) {
        self.method = method
        self.mixture = mixture
        var random = RandomSource(seed: seed)
        trainer = method.makeTrainer(dataScale: Float(mixture.reach), using: &random)
        // The real batches' own stream, so data draws do not depend on how many draws training made.
        var data = random.split()
        loop = TrainingLoop(trainer: trainer, stage: stage ?? 0, totalSteps: totalSteps, decayTo: method.decayTo,
                            recordsRows: stage != nil, random: random) { count, _ in mixture.sample(count: count, using: &data) }
    }

    var step: Int { loop.step }

    /// `count` more steps. Throws `TrainingInterrupted` (with nothing to save of its own) when
    /// Ctrl-C asked to stop, and a `LessonError` when a loss stops being finite.
    func train(steps count: Int) throws { try loop.train(steps: count) }

    /// The literature's metrics on `count` fresh samples.
    func coverage(samples count: Int) -> (coverage: ModeCoverage, samples: Tensor) {
        let samples = trainer.generate(count: count, using: &loop.random)
        return (ModeCoverage(samples: samples, means: mixture.means, std: mixture.std), samples)
    }
}
