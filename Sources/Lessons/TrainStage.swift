import Charts
import Data
import Foundation
import GAN
import Kernels
import NN

/// The training stage: the D-step/G-step loop with scatter snapshots, a metrics chart and final statistics.
enum TrainStage: StageKind {
    static let name = "train"
    static let settings = dataSettings + modelSettings + trainingSettings + [
        SettingSpec("epochs", .integer(1...1_000_000), "100"),
        SettingSpec("steps-per-epoch", .integer(1...1_000_000), "16"),
        SettingSpec("snapshot-every", .integer(1...1_000_000), "10"),
        SettingSpec("pause-every", .integer(0...1_000_000), "0"),
        SettingSpec("average-generator", .number(0...0.99999), "0"),
    ] + viewSettings

    static func crossCheck(_ settings: StageSettings) -> [String] {
        checkToyData(settings) + checkModels(settings) + checkTraining(settings) + checkViews(settings)
    }

    static func run(_ context: StageContext) throws -> StageOutcome {
        let settings = context.settings
        let epochs = context.quick ? min(settings.integer("epochs"), 2) : settings.integer("epochs")
        let stepsPerEpoch = context.quick ? min(settings.integer("steps-per-epoch"), 4) : settings.integer("steps-per-epoch")
        let session = try TrainingSession(context: context, totalSteps: epochs * stepsPerEpoch)
        let loop = session.loop
        let snapshotEvery = context.quick ? 1 : settings.integer("snapshot-every")
        let console = context.console
        let configuration = session.trainer.configuration
        console.line("  \(grouped(epochs)) epochs × \(stepsPerEpoch) steps, batch \(configuration.batchSize), "
            + "\(settings.text("optimizer")) lr \(settings.text("learning-rate"))"
            + (configuration.labelNoise > 0 ? ", label noise ±\(settings.text("label-noise"))" : ""))

        let digits = max(4, String(epochs).count)
        func snapshot(_ epoch: Int) throws {
            let label = "epoch-" + String(repeating: "0", count: max(0, digits - String(epoch).count)) + String(epoch)
            try session.snapshot(label: label, title: "Epoch \(epoch) of \(epochs): real (blue) vs generated (orange)")
        }
        func outcome() -> StageOutcome { StageOutcome(figures: session.figures, rows: session.rows) }

        let start = Date()
        try snapshot(0)
        let pauseEvery = settings.integer("pause-every")
        var stepping = console.isInteractive
        try loop.runEpochs(epochs, steps: stepsPerEpoch, console: console, beforeEpoch: { epoch in
            if stepping, epoch == 1 || (pauseEvery > 0 && (epoch - 1) % pauseEvery == 0) {
                stepping = try stepThrough(session, epoch: epoch, outcome: outcome)
            }
        }, afterEpoch: { epoch in
            if epoch % snapshotEvery == 0 || epoch == epochs { try snapshot(epoch) }
        }, interrupted: { epoch, ended in
            if !ended || !(epoch % snapshotEvery == 0 || epoch == epochs) { try snapshot(epoch) }
            try session.write(epochChart(loop.epochMeans), name: "metrics")
            return outcome()
        })
        let epochMeans = loop.epochMeans
        try session.write(epochChart(epochMeans), name: "metrics")

        // Final statistics: 1,000 generated points next to 1,000 real ones.
        let real = columnStatistics(session.distribution.sample(count: 1000, using: &session.random))
        let finalNoise = session.trainer.sampleNoise(count: 1000, using: &session.random)
        let fake = columnStatistics(session.withShownGenerator { session.views.generateShown(finalNoise) })
        let row = { (name: String, stats: (means: [Double], stds: [Double])) in
            console.line("    " + name.padding(toLength: 24, withPad: " ", startingAt: 0)
                + [stats.means[0], stats.means[1], stats.stds[0], stats.stds[1]].map { rightAligned(fixed($0), 9) }.joined())
        }
        console.line()
        console.line("    " + String(repeating: " ", count: 24) + ["mean x", "mean y", "std x", "std y"].map { rightAligned($0, 9) }.joined())
        row("real", real)
        var lastStepMetrics: [String: Double] = [:]
        if session.average != nil {
            // The generator as the last step left it, beside its running average (which the figures show).
            let lastStep = columnStatistics(session.views.generateShown(finalNoise))
            row("generated, last step", lastStep)
            row("generated, averaged", fake)
            lastStepMetrics = ["last_step_mean_x": lastStep.means[0], "last_step_mean_y": lastStep.means[1],
                               "last_step_std_x": lastStep.stds[0], "last_step_std_y": lastStep.stds[1]]
        } else {
            row("generated", fake)
        }
        let last = epochMeans.last!
        let viewMetrics = try session.finish()
        var result = outcome()
        result.finalSamples = session.views.finalSamples
        result.metrics = [
            "real_mean_x": real.means[0], "real_mean_y": real.means[1], "real_std_x": real.stds[0], "real_std_y": real.stds[1],
            "fake_mean_x": fake.means[0], "fake_mean_y": fake.means[1], "fake_std_x": fake.stds[0], "fake_std_y": fake.stds[1],
            "discriminator_loss": Double(last.discriminatorLoss), "generator_loss": Double(last.generatorLoss),
            "d_x": Double(last.realScore), "d_g_z": Double(last.fakeScore), "steps": Double(session.step),
            "seconds": (Date().timeIntervalSince(start) * 100).rounded() / 100,
        ].merging(viewMetrics) { $1 }.merging(lastStepMetrics) { $1 }
        return result
    }

    /// Step mode at a pause point: each update redraws the scatter and the views.
    private static func stepThrough(_ session: TrainingSession, epoch: Int, outcome: () -> StageOutcome) throws -> Bool {
        try stepMode(session.context.console, epoch: epoch, outcome: outcome) { networks in
            let metrics = try session.loop.step(networks)
            let label = String(format: "step-%05d-", session.step) + networks.fileSuffix
            try session.snapshot(label: label, title: "After step \(session.step) · \(networks.words): real (blue) vs generated (orange)")
            let figure = session.figures.last!.components(separatedBy: "/").suffix(2).joined(separator: "/")
            return "step \(session.step) · \(networks.words) · " + metricsSummary(metrics) + " · drew \(figure)"
        }
    }
}

/// Step mode at a pause point: d, g or b take one update (`take` runs it, draws, and says what it
/// did); p plays to the next pause point, Enter to the end of the stage (returns false: no more
/// pauses), q stops the lesson with what the stage has done.
func stepMode(_ console: Console, epoch: Int, outcome: () -> StageOutcome, take: (Networks) throws -> String) throws -> Bool {
    let choices: [String: Networks] = ["d": .discriminator, "g": .generator, "b": .both]
    while true {
        guard let answer = console.ask("epoch \(epoch) · d: one D update · g: one G update · b: both · p: to next pause · Enter: play · q: quit ›")
        else { return false }
        switch answer.lowercased() {
        case "": return false
        case "p": return true
        case "q": throw StageStopped(outcome: outcome())
        default:
            guard let networks = choices[answer.lowercased()] else {
                console.line("  (\"\(answer)\" is not a choice here)")
                continue
            }
            console.line("  " + (try take(networks)))
        }
    }
}

/// Losses and D's accuracy per epoch (epoch means), smoothed when there are many epochs.
func epochChart(_ epochs: [StepMetrics], title: String = "Losses and discriminator accuracy per epoch") -> LineChart {
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
    return LineChart(title: title, x: Axis("epoch"), y: Axis("loss (BCE)"),
                     secondaryY: Axis("accuracy", domain: 0...1), series: series)
}
