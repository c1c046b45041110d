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
    let batchSize: Int
    var random: RandomSource
    /// Real points and noise fixed at the start, so snapshots differ only by training.
    let shownReal: Tensor
    let fixedNoise: Tensor
    private(set) var step = 0
    private(set) var rows: [MetricsRow] = []
    private(set) var figures: [String] = []
    /// How a step updates the networks (`update`: alternating, joint or phases) and what the snapshots draw (`views`).
    let update: String
    let views: ToyViews

    init(context: StageContext) throws {
        self.context = context
        var random = context.random
        trainer = try TrainingSession.makeTrainer(context.settings, using: &random)
        distribution = context.distribution
        batchSize = context.settings.integer("batch-size")
        shownReal = distribution.sample(count: 1000, using: &random)
        fixedNoise = trainer.sampleNoise(count: 1000, using: &random)
        self.random = random
        update = context.settings.text("update")
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

    /// One training step (by default both networks, as `update` says); records and checks the losses.
    /// Values a single-network update did not measure are NaN in the returned metrics and empty in metrics.csv.
    @discardableResult
    func trainStep(epoch: Int, networks: Networks = .both) throws -> StepMetrics {
        switch networks {
        case .discriminator: return try discriminatorOnlyStep(epoch: epoch)
        case .generator: return try generatorOnlyStep(epoch: epoch)
        case .both: break
        }
        step += 1
        var metrics = StepMetrics()
        switch update {
        case "joint", "phases": tutorialStep(&metrics)
        default:
            let real = distribution.sample(count: batchSize, using: &random)
            trainer.discriminatorStep(real: real, into: &metrics, using: &random)
            trainer.generatorStep(batchSize: batchSize, into: &metrics, using: &random)
        }
        try record(metrics, epoch: epoch)
        return metrics
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

    /// Counts a step taken outside `trainStep` (a single update in step mode).
    func countStep() { step += 1 }

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
        var training = TrainingSettings()
        training.batchSize = settings.integer("batch-size")
        training.labelNoise = Float(settings.number("label-noise"))
        training.realLabel = Float(settings.number("real-label"))
        training.noise = settings.text("noise") == "normal" ? .normal : .uniform(low: -1, high: 1)
        return GANTrainer(generator: generator, discriminator: discriminator, latentSize: generatorArchitecture.inputSize,
                          generatorOptimizer: makeOptimizer(settings, generator.parameters),
                          discriminatorOptimizer: makeOptimizer(settings, discriminator.parameters), settings: training)
    }

    static func makeOptimizer(_ settings: StageSettings, _ parameters: [Parameter]) -> Optimizer {
        let rate = Float(settings.number("learning-rate"))
        switch settings.text("optimizer") {
        case "rmsprop":
            // keras: ε inside the root; pytorch: ε outside; tensorflow1: inside, and the mean square starts at 1.
            let convention = settings.text("rmsprop")
            return RMSProp(parameters: parameters, learningRate: rate, rho: Float(settings.number("rho")),
                           epsilon: Float(settings.number("epsilon")), epsilonInsideRoot: convention != "pytorch",
                           initialMeanSquare: convention == "tensorflow1" ? 1 : 0)
        case "sgd":
            return SGD(parameters: parameters, learningRate: rate, momentum: Float(settings.number("momentum")))
        default:
            return Adam(parameters: parameters, learningRate: rate, beta1: Float(settings.number("beta1")),
                        beta2: Float(settings.number("beta2")), epsilon: Float(settings.number("epsilon")))
        }
    }
}
