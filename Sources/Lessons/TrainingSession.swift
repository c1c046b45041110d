import Charts
import Data
import Foundation
import GAN
import Kernels
import NN

/// A training run on toy points in progress: the one training loop, its data, the fixed batches
/// every snapshot shows, and the views that watch it. Stages drive it and ask it for figures.
final class TrainingSession {
    let context: StageContext
    let trainer: GANTrainer
    let loop: TrainingLoop
    let distribution: ToyDistribution
    /// Real points and noise fixed at the start, so snapshots differ only by training.
    let shownReal: Tensor
    let fixedNoise: Tensor
    private(set) var figures: [String] = []
    /// What the snapshots draw (`views`).
    let views: ToyViews

    /// `totalSteps`: the run's length, over which `decay-to` lowers the learning rates.
    init(context: StageContext, totalSteps: Int = 1) throws {
        self.context = context
        let settings = context.settings
        var random = context.random
        trainer = try TrainingSession.makeTrainer(settings, using: &random)
        let distribution = try context.distribution()
        self.distribution = distribution
        shownReal = distribution.sample(count: 1000, using: &random)
        fixedNoise = trainer.sampleNoise(count: 1000, using: &random)
        let views = try ToyViews(context: context, trainer: trainer)
        self.views = views
        loop = TrainingLoop(trainer: trainer, stage: context.plan.number, totalSteps: totalSteps, decayTo: Float(settings.number("decay-to")),
                            random: random) { count, random in views.modelSpace(distribution.sample(count: count, using: &random)) }
        let decay = settings.number("average-generator")
        average = decay > 0 ? ParameterAverage(parameters: trainer.generator.parameters, decay: Float(decay)) : nil
        // The views watch single updates (D's features around them, every `probe-every` rounds and
        // in step mode) and every step (divergences); the average follows every G update.
        let quick = context.quick, probeEvery = settings.integer("probe-every")
        loop.observe = { network, real, noise, update in views.observe(network, real: real, noise: noise, update) }
        loop.beforeStep.append { step, networks in views.probing = networks != .both || quick || step % probeEvery == 0 }
        loop.afterStep.append { [average] step, networks, _ in
            if networks != .discriminator { average?.update() }
            views.afterStep(step)
            return [:]
        }
    }

    /// The run's random stream (batches, noise, and the final statistics' draws).
    var random: RandomSource {
        get { loop.random }
        set { loop.random = newValue }
    }
    var step: Int { loop.step }
    var rows: [MetricsRow] { loop.rows }

    /// The generator's weights averaged over training (`average-generator`), which figures and final
    /// statistics then show; nil when the stage shows the generator as trained.
    let average: ParameterAverage?

    /// Runs `body` with the generator the figures show: its running average when the stage keeps one.
    func withShownGenerator<Result>(_ body: () throws -> Result) rethrows -> Result {
        guard let average else { return try body() }
        return try average.withAveragedParameters(body)
    }

    /// A real batch as the networks see it (standardised when the stage says so).
    func realBatch(count: Int, using random: inout RandomSource) -> Tensor {
        views.modelSpace(distribution.sample(count: count, using: &random))
    }

    /// The snapshot figures for the current state, named by `label` (e.g. "epoch-0040").
    func snapshot(label: String, title: String) throws {
        try withShownGenerator { try drawSnapshot(label: label, title: title) }
    }

    private func drawSnapshot(label: String, title: String) throws {
        let fake = views.generateShown(fixedNoise)
        let chart = samplesChart(title: title, real: shownReal, fake: fake, axes: views.xAxes, yAxes: views.yAxes)
        views.filmstrip.append((label, chart))
        if views.kinds.contains(.samples) { figures.append(try context.write(chart, name: "samples-\(label)")) }
        figures += try views.snapshot(label: label, title: title, real: shownReal, fakeNoise: fixedNoise)
    }

    /// The end-of-training figures and numbers of the views (animation, divergences, filmstrip, feature sequence).
    func finish() throws -> [String: Double] {
        if let lastStep = rows.last?.step { views.measureDivergence(atLastStep: lastStep) }  // as training measured it
        let (written, metrics) = try withShownGenerator { try views.finish(rows: rows) }
        figures += written
        return metrics
    }

    /// Writes a figure that is not a snapshot (the metrics chart).
    func write(_ chart: some Chart, name: String) throws {
        figures.append(try context.write(chart, name: name))
    }

    static func makeTrainer(_ settings: StageSettings, using random: inout RandomSource) throws -> GANTrainer {
        let networks = try StageNetworks(settings, using: &random)
        return GANTrainer(generator: networks.generator, discriminator: networks.discriminator,
                          latentSize: networks.generatorArchitecture.inputSize, configuration: GANConfiguration(settings))
    }
}

/// A training stage's two networks as its training starts (`train` and `train-images` stages):
/// the generator's layers, then the discriminator's, initialised from the stage's random source in
/// that order. The stages build their networks here, and `gan-lab export --pytorch LESSON --stage S` too.
struct StageNetworks {
    let generatorArchitecture: Architecture
    let discriminatorArchitecture: Architecture
    let generator: Sequential
    let discriminator: Sequential

    init(_ settings: StageSettings, using random: inout RandomSource) throws {
        generatorArchitecture = try Architecture(parsing: settings.text("generator"))
        discriminatorArchitecture = try Architecture(parsing: settings.text("discriminator"))
        generator = generatorArchitecture.build(using: &random)
        discriminator = discriminatorArchitecture.build(using: &random)
    }
}
