import Foundation
import GAN
import Kernels

/// Which networks one step trains: a round of both, or one alone (step mode's d and g).
enum Networks: String {
    case discriminator = "D", generator = "G", both = "D+G"

    /// How figure names end after a step of it.
    var fileSuffix: String { self == .both ? "both" : self == .generator ? "g" : "d" }

    /// How a learner reads it.
    var words: String {
        switch self {
        case .discriminator: return "D update"
        case .generator: return "G update"
        case .both: return "D and G updates"
        }
    }
}

/// The one training loop every training stage runs: rounds of the game (as the configuration's
/// schedule says) with the learning-rate schedule, Ctrl-C, a stop at the first non-finite loss,
/// metrics rows, and observers. Stages add what they show by observing it: a view watches single
/// updates (`observe`), runs after every step (`afterStep`), and can add columns to metrics.csv.
final class TrainingLoop {
    let trainer: GANTrainer
    /// The stage whose rows these are.
    let stage: Int
    /// Steps the whole run takes (the learning rates decay over them).
    let totalSteps: Int
    /// The fraction of their start the learning rates fall to, linearly, over `totalSteps`.
    let decayTo: Float
    /// Whether each step is kept as a row of metrics.csv.
    let recordsRows: Bool
    var random: RandomSource
    private let realBatch: (Int, inout RandomSource) -> Tensor
    private(set) var step = 0
    private(set) var rows: [MetricsRow] = []
    private(set) var lastMetrics = StepMetrics()
    /// Runs each update, given the batch it trains on (a view may look at the networks around it).
    var observe: UpdateObserver = { _, _, _, update in update() }
    /// Called before every step with its number (1-based) and the networks it updates.
    var beforeStep: [(_ step: Int, _ networks: Networks) -> Void] = []
    /// Called after every step with what it measured; returns values for extra metrics.csv columns (or none).
    var afterStep: [(_ step: Int, _ networks: Networks, _ metrics: StepMetrics) -> [String: Double]] = []

    init(trainer: GANTrainer, stage: Int, totalSteps: Int, decayTo: Float = 1, recordsRows: Bool = true,
         random: RandomSource, realBatch: @escaping (Int, inout RandomSource) -> Tensor) {
        self.trainer = trainer
        self.stage = stage
        self.totalSteps = totalSteps
        self.decayTo = decayTo
        self.recordsRows = recordsRows
        self.random = random
        self.realBatch = realBatch
    }

    /// The epoch (or frame) the next steps belong to, as the stage counts them (metrics.csv's epoch column).
    var epoch = 1

    /// Each finished epoch's mean metrics of its rounds (`runEpochs`).
    private(set) var epochMeans: [StepMetrics] = []
    private var epochSum = StepMetrics(), epochRounds = 0

    /// `epochs` epochs of `steps` rounds, from where the loop is (a resumed run continues inside
    /// its epoch): sets `epoch`, keeps each epoch's mean metrics, calls `beforeEpoch` (step mode's
    /// pause points) and `afterEpoch` (snapshots), and reports progress (every 0.1 s on a terminal,
    /// every 5 s otherwise, and at the end). On Ctrl-C it stops at the end of the step, or of the
    /// epoch when the step ends one (`ended`: `afterEpoch` has run), says so, asks `interrupted`
    /// for what the stage saved, and stops the stage with it.
    func runEpochs(_ epochs: Int, steps: Int, console: Console, beforeEpoch: (Int) throws -> Void = { _ in },
                   afterEpoch: (Int) throws -> Void, interrupted: (_ epoch: Int, _ ended: Bool) throws -> StageOutcome) throws {
        let (start, firstStep, firstEpoch) = (Date(), step, epochMeans.count)
        var lastReport = Date.distantPast
        func stop(_ epoch: Int, ended: Bool) throws -> Never {
            console.progress("interrupted at epoch \(epoch), step \(step): saving what was done", final: true)
            throw TrainingInterrupted(outcome: try interrupted(epoch, ended))
        }
        for epoch in epochMeans.count + 1 ..< epochs + 1 {
            self.epoch = epoch
            if roundsIntoEpoch == 0 {
                try beforeEpoch(epoch)
                (epochSum, epochRounds) = (StepMetrics(), 0)
            }
            while roundsIntoEpoch < steps {
                try self.step(.both)
                roundsIntoEpoch += 1
                if Interruption.requested, roundsIntoEpoch < steps { try stop(epoch, ended: false) }  // after the step: it is kept
            }
            roundsIntoEpoch = 0
            epochMeans.append(scaled(epochSum, 1 / Float(max(epochRounds, 1))))
            try afterEpoch(epoch)
            if Interruption.requested { try stop(epoch, ended: true) }
            let now = Date()
            if epoch == epochs || now.timeIntervalSince(lastReport) > (console.isTerminal ? 0.1 : 5) {
                lastReport = now
                console.progress(progressLine(epoch: epoch, of: epochs, start: start, since: (firstStep, firstEpoch), metrics: epochMeans.last!),
                                 final: epoch == epochs)
            }
        }
    }

    /// Rounds of the current epoch `runEpochs` has trained.
    private(set) var roundsIntoEpoch = 0

    /// Everything the loop keeps that the next steps depend on or report: a resumed run restores it.
    var state: TrainingLoopState {
        TrainingLoopState(step: step, epoch: epoch, roundsIntoEpoch: roundsIntoEpoch, random: random.state, rows: rows,
                          lastMetrics: lastMetrics, epochMeans: epochMeans, epochSum: epochSum, epochRounds: epochRounds,
                          lastFiniteRound: lastFiniteRound)
    }

    func restore(_ state: TrainingLoopState) {
        (step, epoch, roundsIntoEpoch, random) = (state.step, state.epoch, state.roundsIntoEpoch, RandomSource(seed: state.random))
        (rows, lastMetrics, lastFiniteRound) = (state.rows, state.lastMetrics, state.lastFiniteRound)
        (epochMeans, epochSum, epochRounds) = (state.epochMeans, state.epochSum, state.epochRounds)
    }

    /// `count` steps of both networks. Throws `TrainingInterrupted` (with nothing to save of its
    /// own: the stage adds what it has) when Ctrl-C asked to stop, and a `LessonError` when a loss
    /// stops being finite.
    func train(steps count: Int) throws {
        for _ in 0..<count {
            try self.step(.both)
            if Interruption.requested { throw TrainingInterrupted(outcome: StageOutcome()) }  // after the step: it is kept
        }
    }

    /// One step: a round of both networks, or a single update of one; records and checks it.
    /// Values a single update did not measure are NaN in the result and empty in metrics.csv.
    @discardableResult
    func step(_ networks: Networks) throws -> StepMetrics {
        trainer.scheduleLearningRates(step: step, of: totalSteps, decayTo: decayTo)
        step += 1
        for observer in beforeStep { observer(step, networks) }
        var metrics = StepMetrics()
        switch networks {
        case .both: trainer.round(realBatch: realBatch, into: &metrics, using: &random, observe: observe)
        case .discriminator: metrics = trainer.singleUpdate(.discriminator, realBatch: realBatch, using: &random, observe: observe)
        case .generator: metrics = trainer.singleUpdate(.generator, realBatch: realBatch, using: &random, observe: observe)
        }
        try checkFinite(metrics, networks: networks)
        if step == Interruption.afterStep { Interruption.requested = true }
        lastMetrics = metrics
        if networks == .both {
            accumulate(&epochSum, metrics)
            epochRounds += 1
        }
        var extra: [String: Double] = [:]
        for observer in afterStep { extra.merge(observer(step, networks, metrics)) { $1 } }
        if recordsRows {
            rows.append(MetricsRow(
                stage: stage, step: step, epoch: epoch, update: networks.rawValue,
                discriminatorLoss: metrics.discriminatorLoss, generatorLoss: metrics.generatorLoss,
                realAccuracy: metrics.realAccuracy, fakeAccuracy: metrics.fakeAccuracy,
                realScore: metrics.realScore, fakeScore: metrics.fakeScore, generatorStepFakeScore: metrics.generatorStepFakeScore,
                learningRate: trainer.generatorOptimizer.learningRate, extra: extra))
        }
        return metrics
    }

    /// Adds values to the last row (a measurement taken after the step, such as a snapshot's).
    func annotateLastRow(_ values: [String: Double]) {
        guard recordsRows, !rows.isEmpty else { return }
        rows[rows.count - 1].extra.merge(values) { $1 }
    }

    private func checkFinite(_ metrics: StepMetrics, networks: Networks) throws {
        let measured = [("discriminator", metrics.discriminatorLoss, networks != .generator),
                        ("generator", metrics.generatorLoss, networks != .discriminator)]
        for (network, loss, wasMeasured) in measured where wasMeasured && !loss.isFinite {
            let last = lastFiniteRound.map { "last finite losses: D \(fixed(Double($0.discriminatorLoss), 4)), G \(fixed(Double($0.generatorLoss), 4)) at step \($0.step)" }
                ?? "no finite step before it"
            throw LessonError(["the \(network) loss became \(loss.isNaN ? "NaN" : "infinite") at step \(step) (\(last)); training diverged: "
                + "try a lower learning rate (--set learning-rate=…) or a gradient penalty"])
        }
        if networks == .both {
            lastFiniteRound = FiniteRound(step: step, discriminatorLoss: metrics.discriminatorLoss, generatorLoss: metrics.generatorLoss)
        }
    }

    private var lastFiniteRound: FiniteRound?

    /// The progress line: where training is, how fast it goes (since `start`, at `since`'s step and
    /// epoch), and the last numbers, in words.
    func progressLine(epoch: Int, of epochs: Int, start: Date, since: (step: Int, epoch: Int) = (0, 0), metrics: StepMetrics) -> String {
        let elapsed = Date().timeIntervalSince(start)
        let rate = Double(step - since.step) / max(elapsed, 1e-9)
        let remaining = elapsed / Double(max(epoch - since.epoch, 1)) * Double(epochs - epoch)
        return "epoch \(epoch)/\(epochs) · step \(grouped(step)) · \(Int(rate)) steps/s · \(fixed(elapsed, 1)) s"
            + (epoch < epochs ? " · ETA \(fixed(remaining, 1)) s" : "")
            + " · " + metricsSummary(metrics)
    }
}

/// A training loop's state after a step (`TrainingLoop.state`), as a training checkpoint stores it.
struct TrainingLoopState: Codable {
    var step: Int
    var epoch: Int
    var roundsIntoEpoch: Int
    /// The loop's stream (batches, noise, labels), by its SplitMix64 state.
    var random: UInt64
    var rows: [MetricsRow]
    var lastMetrics: StepMetrics
    var epochMeans: [StepMetrics]
    var epochSum: StepMetrics
    var epochRounds: Int
    var lastFiniteRound: FiniteRound?
}

/// The last round whose losses were finite (a divergence's message cites it).
struct FiniteRound: Codable {
    var step: Int
    var discriminatorLoss: Float
    var generatorLoss: Float
}

/// Losses and scores that were measured, in one line, named as a learner reads them.
func metricsSummary(_ metrics: StepMetrics) -> String {
    [("D loss", metrics.discriminatorLoss, 3), ("G loss", metrics.generatorLoss, 3),
     ("D(x)", metrics.realScore, 2), ("D(G(z))", metrics.fakeScore, 2)]
        .filter { !$0.1.isNaN }.map { "\($0.0) \(fixed(Double($0.1), $0.2))" }.joined(separator: " · ")
}

private func accumulate(_ sum: inout StepMetrics, _ metrics: StepMetrics) {
    sum.discriminatorLoss += metrics.discriminatorLoss
    sum.generatorLoss += metrics.generatorLoss
    sum.realAccuracy += metrics.realAccuracy
    sum.fakeAccuracy += metrics.fakeAccuracy
    sum.realScore += metrics.realScore
    sum.fakeScore += metrics.fakeScore
    sum.generatorStepFakeScore += metrics.generatorStepFakeScore
}

private func scaled(_ metrics: StepMetrics, _ factor: Float) -> StepMetrics {
    var result = metrics
    result.discriminatorLoss *= factor
    result.generatorLoss *= factor
    result.realAccuracy *= factor
    result.fakeAccuracy *= factor
    result.realScore *= factor
    result.fakeScore *= factor
    result.generatorStepFakeScore *= factor
    return result
}
