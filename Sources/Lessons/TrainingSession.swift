import Charts
import Data
import Foundation
import GAN
import Kernels
import NN

/// A training run in progress: the trainer, its data, the fixed batches every snapshot shows,
/// and what has been measured so far. Stages drive it step by step and ask it for figures.
final class TrainingSession {
    let context: StageContext
    let trainer: GANTrainer
    let distribution: ToyDistribution
    var random: RandomSource
    /// Real points and noise fixed at the start, so snapshots differ only by training.
    let shownReal: Tensor
    let fixedNoise: Tensor
    private(set) var step = 0
    private(set) var rows: [MetricsRow] = []
    private(set) var figures: [String] = []
    /// What the snapshots draw (`views`).
    let views: ToyViews
    /// Runs each update, given the batch it trains on (by default the views' `observe`).
    lazy var observe: UpdateObserver = views.observe

    init(context: StageContext) throws {
        self.context = context
        var random = context.random
        trainer = try TrainingSession.makeTrainer(context.settings, using: &random)
        distribution = context.distribution
        shownReal = distribution.sample(count: 1000, using: &random)
        fixedNoise = trainer.sampleNoise(count: 1000, using: &random)
        self.random = random
        views = try ToyViews(context: context, trainer: trainer)
        let decay = context.settings.number("average-generator")
        average = decay > 0 ? ParameterAverage(parameters: trainer.generator.parameters, decay: Float(decay)) : nil
    }

    /// The generator's weights averaged over training (`average-generator`), which figures and final
    /// statistics then show; nil when the stage shows the generator as trained.
    let average: ParameterAverage?

    /// Runs `body` with the generator the figures show: its running average when the stage keeps one.
    func withShownGenerator<Result>(_ body: () throws -> Result) rethrows -> Result {
        guard let average else { return try body() }
        return try average.withAveragedParameters(body)
    }

    /// Which networks one step trains: both (a full step), or one alone (step mode's d and g).
    enum Networks: String {
        case discriminator = "D", generator = "G", both = "D+G"
    }

    /// One training step (by default a round of both networks, as `update` says); records and
    /// checks the losses. Values a single-network update did not measure are NaN in the returned
    /// metrics and empty in metrics.csv.
    @discardableResult
    func trainStep(epoch: Int, networks: Networks = .both) throws -> StepMetrics {
        step += 1
        var metrics = StepMetrics()
        let views = self.views, observe = self.observe
        let batches = { (count: Int, random: inout RandomSource) in self.realBatch(count: count, using: &random) }
        switch networks {
        case .both:
            views.probing = context.quick || step % context.settings.integer("probe-every") == 0
            defer { views.probing = true }
            trainer.round(realBatch: batches, into: &metrics, using: &random, observe: observe)
        case .discriminator: metrics = trainer.singleUpdate(.discriminator, realBatch: batches, using: &random, observe: observe)
        case .generator: metrics = trainer.singleUpdate(.generator, realBatch: batches, using: &random, observe: observe)
        }
        try record(metrics, epoch: epoch, networks: networks)
        return metrics
    }

    /// A real batch as the networks see it (standardised when the stage says so).
    func realBatch(count: Int, using random: inout RandomSource) -> Tensor {
        views.modelSpace(distribution.sample(count: count, using: &random))
    }

    func record(_ metrics: StepMetrics, epoch: Int, networks: Networks = .both) throws {
        try checkFinite(metrics, networks: networks)
        if networks != .discriminator { average?.update() }
        rows.append(MetricsRow(
            stage: context.plan.number, step: step, epoch: epoch, update: networks.rawValue,
            discriminatorLoss: metrics.discriminatorLoss, generatorLoss: metrics.generatorLoss,
            realAccuracy: metrics.realAccuracy, fakeAccuracy: metrics.fakeAccuracy,
            realScore: metrics.realScore, fakeScore: metrics.fakeScore,
            learningRate: trainer.generatorOptimizer.learningRate))
        views.afterStep(step)
    }

    /// The snapshot figures for the current state, named by `label` (e.g. "epoch-0040").
    func snapshot(label: String, title: String) throws {
        try withShownGenerator { try drawSnapshot(label: label, title: title) }
    }

    private func drawSnapshot(label: String, title: String) throws {
        let fake = views.generateShown(fixedNoise)
        let chart = samplesChart(title: title, real: shownReal, fake: fake, axes: views.xAxes, yAxes: views.yAxes)
        views.filmstrip.append((label, chart))
        if views.kinds.contains("samples") { figures.append(try context.write(chart, name: "samples-\(label)")) }
        figures += try views.snapshot(label: label, title: title, real: shownReal, fakeNoise: fixedNoise)
    }

    /// The end-of-training figures and numbers of the views (animation, divergences, filmstrip, feature sequence).
    func finish() throws -> [String: Double] {
        let (written, metrics) = try withShownGenerator { try views.finish(rows: rows) }
        figures += written
        return metrics
    }

    /// Writes a figure that is not a snapshot (the metrics chart).
    func write(_ chart: some Chart, name: String) throws {
        figures.append(try context.write(chart, name: name))
    }

    private func checkFinite(_ metrics: StepMetrics, networks: Networks) throws {
        let measured = [("discriminator", metrics.discriminatorLoss, networks != .generator),
                        ("generator", metrics.generatorLoss, networks != .discriminator)]
        for (network, loss, wasMeasured) in measured where wasMeasured && !loss.isFinite {
            let last = rows.last { $0.update == Networks.both.rawValue }
                .map { "last finite losses: D \($0.discriminatorLoss), G \($0.generatorLoss) at step \($0.step)" }
                ?? "no finite step before it"
            throw LessonError(["the \(network) loss became \(loss.isNaN ? "NaN" : "infinite") at step \(step) (\(last)); training diverged: "
                + "try a lower learning rate (--set learning-rate=…) or a gradient penalty"])
        }
    }

    static func makeTrainer(_ settings: StageSettings, using random: inout RandomSource) throws -> GANTrainer {
        let generatorArchitecture = try Architecture(parsing: settings.text("generator"))
        let discriminatorArchitecture = try Architecture(parsing: settings.text("discriminator"))
        let generator = generatorArchitecture.build(using: &random)
        let discriminator = discriminatorArchitecture.build(using: &random)
        return GANTrainer(generator: generator, discriminator: discriminator, latentSize: generatorArchitecture.inputSize,
                          configuration: GANConfiguration(settings))
    }
}
