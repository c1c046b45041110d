import Charts
import Data
import Foundation
import GAN
import Kernels
import NN

/// The training stage: the D-step/G-step loop with scatter snapshots, a metrics chart and final statistics.
enum TrainStage: StageKind {
    static let name = "train"
    static let settings = dataSettings + modelSettings + [
        SettingSpec("noise", .choice(["uniform", "normal"]), "uniform"),
        SettingSpec("optimizer", .choice(["adam", "rmsprop", "sgd"]), "adam"),
        SettingSpec("learning-rate", .number(1e-8...10), "2e-4"),
        SettingSpec("beta1", .number(0...0.999999), "0.9"),
        SettingSpec("beta2", .number(0...0.999999), "0.999"),
        SettingSpec("epsilon", .number(0...1), "1e-7"),
        SettingSpec("rho", .number(0...0.999999), "0.9"),
        SettingSpec("momentum", .number(0...0.999999), "0"),
        SettingSpec("batch-size", .integer(1...65_536), "64"),
        SettingSpec("epochs", .integer(1...1_000_000), "100"),
        SettingSpec("steps-per-epoch", .integer(1...1_000_000), "16"),
        SettingSpec("label-noise", .number(0...0.5), "0"),
        SettingSpec("real-label", .number(0.5...1), "1"),
        SettingSpec("snapshot-every", .integer(1...1_000_000), "10"),
    ]

    static func crossCheck(_ settings: StageSettings) -> [String] { checkModels(settings) }

    static func run(_ context: StageContext) throws -> StageOutcome {
        let settings = context.settings
        var random = context.random
        let trainer = try makeTrainer(settings, using: &random)
        let distribution = context.distribution
        let axes = settings.interval("axes")
        let batchSize = settings.integer("batch-size")
        let epochs = context.quick ? min(settings.integer("epochs"), 2) : settings.integer("epochs")
        let stepsPerEpoch = context.quick ? min(settings.integer("steps-per-epoch"), 4) : settings.integer("steps-per-epoch")
        let snapshotEvery = context.quick ? 1 : settings.integer("snapshot-every")
        let console = context.console
        console.line("  \(grouped(epochs)) epochs × \(stepsPerEpoch) steps, batch \(batchSize), "
            + "\(settings.text("optimizer")) lr \(settings.text("learning-rate"))"
            + (settings.number("label-noise") > 0 ? ", label noise ±\(settings.text("label-noise"))" : ""))

        // Fixed real points and fixed noise for the snapshots, so frames differ only by training.
        let shownReal = distribution.sample(count: 1000, using: &random)
        let fixedNoise = trainer.sampleNoise(count: 1000, using: &random)
        var outcome = StageOutcome()
        var epochMeans: [StepMetrics] = []
        let width = String(epochs).count < 4 ? 4 : String(epochs).count

        func snapshot(_ epoch: Int) throws {
            let title = "Epoch \(epoch) of \(epochs): real (blue) vs generated (orange)"
            let chart = samplesChart(title: title, real: shownReal, fake: trainer.generate(from: fixedNoise), axes: axes)
            let name = "samples-epoch-" + String(repeating: "0", count: max(0, width - String(epoch).count)) + String(epoch)
            outcome.figures.append(try context.write(chart, name: name))
        }

        let start = Date()
        try snapshot(0)
        var step = 0
        var lastReport = Date.distantPast
        for epoch in 1...epochs {
            var sum = StepMetrics()
            for _ in 0..<stepsPerEpoch {
                step += 1
                var metrics = StepMetrics()
                let real = distribution.sample(count: batchSize, using: &random)
                trainer.discriminatorStep(real: real, into: &metrics, using: &random)
                trainer.generatorStep(batchSize: batchSize, into: &metrics, using: &random)
                try checkFinite(metrics, step: step, previous: outcome.rows.last)
                outcome.rows.append(MetricsRow(
                    stage: context.plan.number, step: step, epoch: epoch,
                    discriminatorLoss: metrics.discriminatorLoss, generatorLoss: metrics.generatorLoss,
                    realAccuracy: metrics.realAccuracy, fakeAccuracy: metrics.fakeAccuracy,
                    realScore: metrics.realScore, fakeScore: metrics.fakeScore,
                    learningRate: trainer.generatorOptimizer.learningRate))
                accumulate(&sum, metrics)
                if Interruption.requested {
                    try snapshot(epoch)
                    outcome.figures.append(try context.write(metricsChart(epochMeans), name: "metrics"))
                    throw TrainingInterrupted(outcome: outcome)
                }
            }
            epochMeans.append(scaled(sum, 1 / Float(stepsPerEpoch)))
            if epoch % snapshotEvery == 0 || epoch == epochs { try snapshot(epoch) }
            let now = Date()
            if epoch == epochs || now.timeIntervalSince(lastReport) > (console.isTerminal ? 0.1 : 5) {
                lastReport = now
                console.progress(progressLine(epoch: epoch, of: epochs, step: step, start: start, metrics: epochMeans.last!),
                                 final: epoch == epochs)
            }
        }
        outcome.figures.append(try context.write(metricsChart(epochMeans), name: "metrics"))

        // Final statistics: 1,000 generated points next to 1,000 real ones.
        let real = columnStatistics(distribution.sample(count: 1000, using: &random))
        let fake = columnStatistics(trainer.generate(count: 1000, using: &random))
        console.line()
        console.line("                 mean x   mean y    std x    std y")
        console.line("    real       " + [real.means[0], real.means[1], real.stds[0], real.stds[1]].map { pad(fixed($0)) }.joined())
        console.line("    generated  " + [fake.means[0], fake.means[1], fake.stds[0], fake.stds[1]].map { pad(fixed($0)) }.joined())
        let last = epochMeans.last!
        outcome.metrics = [
            "real_mean_x": real.means[0], "real_mean_y": real.means[1], "real_std_x": real.stds[0], "real_std_y": real.stds[1],
            "fake_mean_x": fake.means[0], "fake_mean_y": fake.means[1], "fake_std_x": fake.stds[0], "fake_std_y": fake.stds[1],
            "discriminator_loss": Double(last.discriminatorLoss), "generator_loss": Double(last.generatorLoss),
            "d_x": Double(last.realScore), "d_g_z": Double(last.fakeScore), "steps": Double(step),
            "seconds": (Date().timeIntervalSince(start) * 100).rounded() / 100,
        ]
        return outcome
    }

    private static func makeTrainer(_ settings: StageSettings, using random: inout RandomSource) throws -> GANTrainer {
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

    private static func makeOptimizer(_ settings: StageSettings, _ parameters: [Parameter]) -> Optimizer {
        let rate = Float(settings.number("learning-rate"))
        switch settings.text("optimizer") {
        case "rmsprop":
            return RMSProp(parameters: parameters, learningRate: rate, rho: Float(settings.number("rho")),
                           epsilon: Float(settings.number("epsilon")))
        case "sgd":
            return SGD(parameters: parameters, learningRate: rate, momentum: Float(settings.number("momentum")))
        default:
            return Adam(parameters: parameters, learningRate: rate, beta1: Float(settings.number("beta1")),
                        beta2: Float(settings.number("beta2")), epsilon: Float(settings.number("epsilon")))
        }
    }

    private static func checkFinite(_ metrics: StepMetrics, step: Int, previous: MetricsRow?) throws {
        for (network, loss) in [("discriminator", metrics.discriminatorLoss), ("generator", metrics.generatorLoss)] where !loss.isFinite {
            let last = previous.map { "last finite losses: D \($0.discriminatorLoss), G \($0.generatorLoss) at step \($0.step)" } ?? "no finite step before it"
            throw LessonError(["the \(network) loss became \(loss) at step \(step) (\(last)); training diverged: "
                + "try a lower learning rate (--set learning-rate=…) or a gradient penalty"])
        }
    }

    /// Losses (left axis) and accuracies (right axis) per epoch; long runs are smoothed over a faint raw line.
    private static func metricsChart(_ epochs: [StepMetrics]) -> LineChart {
        let xs = epochs.indices.map { Double($0 + 1) }
        let window = epochs.count >= 50 ? epochs.count / 25 : 0
        let series = [
            LineSeries(name: "D loss", xs: xs, ys: epochs.map { Double($0.discriminatorLoss) }, color: Theme.real, smoothing: window),
            LineSeries(name: "G loss", xs: xs, ys: epochs.map { Double($0.generatorLoss) }, color: Theme.fake, smoothing: window),
            LineSeries(name: "D accuracy on real", xs: xs, ys: epochs.map { Double($0.realAccuracy) }, color: Theme.real,
                       dashed: true, onSecondaryAxis: true, smoothing: window),
            LineSeries(name: "D accuracy on fake", xs: xs, ys: epochs.map { Double($0.fakeAccuracy) }, color: Theme.fake,
                       dashed: true, onSecondaryAxis: true, smoothing: window),
        ]
        return LineChart(title: "Losses and discriminator accuracy per epoch", x: Axis("epoch"), y: Axis("loss (BCE)"),
                         secondaryY: Axis("accuracy", domain: 0...1), series: series)
    }

    private static func progressLine(epoch: Int, of epochs: Int, step: Int, start: Date, metrics: StepMetrics) -> String {
        let elapsed = Date().timeIntervalSince(start)
        let rate = Double(step) / max(elapsed, 1e-9)
        let remaining = elapsed / Double(epoch) * Double(epochs - epoch)
        return "epoch \(epoch)/\(epochs) · \(Int(rate)) steps/s · \(fixed(elapsed, 1)) s"
            + (epoch < epochs ? " · ETA \(fixed(remaining, 1)) s" : "")
            + " · D loss \(fixed(Double(metrics.discriminatorLoss))) · G loss \(fixed(Double(metrics.generatorLoss)))"
            + " · D(x) \(fixed(Double(metrics.realScore), 2)) · D(G(z)) \(fixed(Double(metrics.fakeScore), 2))"
    }
}

private func accumulate(_ sum: inout StepMetrics, _ metrics: StepMetrics) {
    sum.discriminatorLoss += metrics.discriminatorLoss
    sum.generatorLoss += metrics.generatorLoss
    sum.realAccuracy += metrics.realAccuracy
    sum.fakeAccuracy += metrics.fakeAccuracy
    sum.realScore += metrics.realScore
    sum.fakeScore += metrics.fakeScore
}

private func scaled(_ metrics: StepMetrics, _ factor: Float) -> StepMetrics {
    var result = metrics
    result.discriminatorLoss *= factor
    result.generatorLoss *= factor
    result.realAccuracy *= factor
    result.fakeAccuracy *= factor
    result.realScore *= factor
    result.fakeScore *= factor
    return result
}

private func pad(_ text: String) -> String { String(repeating: " ", count: max(0, 9 - text.count)) + text }
