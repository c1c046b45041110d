import Charts
import Foundation
import Kernels

/// How a lesson is run: where it writes, which seed, how fast, in what format.
public struct RunOptions {
    public var outputRoot = "Output"
    /// Replaces the lesson's own seed when set.
    public var seed: UInt64?
    /// A few steps per stage, for smoke tests and CI.
    public var quick = false
    public var format = ImageFormat.png
    /// First stage to run (by number or id); earlier stages are skipped.
    public var startStage: String?
    /// Threads for matrix products and convolutions. The engine cuts work so that every number
    /// comes out the same on any thread count (a GAN would amplify a last-bit difference).
    public var threads = 2
    /// A training checkpoint to continue from: the run starts at its stage, with its seed.
    public var resume: String?

    public init() {}
}

/// Set by Ctrl-C; training stops at the end of the current step.
public enum Interruption {
    public internal(set) static var requested = false
    /// Asks to stop after this step of a stage, as Ctrl-C would then (tests stop a run where they choose).
    static var afterStep: Int?

    /// Installs the Ctrl-C handler: the first press asks to stop, a second one exits at once.
    public static func install() {
        signal(SIGINT) { _ in
            if Interruption.requested { _exit(130) }
            Interruption.requested = true
        }
    }
}

/// What a finished run reports.
public struct RunResult {
    public let folder: String
    public let figures: [String]
    public let interrupted: Bool
    public let quit: Bool
    /// The training checkpoint the interrupted stage wrote (`--resume` continues from it).
    public let checkpoint: String?
    /// Final metrics of each stage, by stage id.
    public let metrics: [String: [String: Double]]
}

/// Walks a lesson stage by stage: explain, run, show what was written.
public final class LessonRunner {
    private(set) var lesson: Lesson
    let options: RunOptions
    let console: Console

    public init(lesson: Lesson, options: RunOptions, console: Console) {
        self.lesson = lesson
        self.options = options
        self.console = console
    }

    public func run() throws -> RunResult {
        let start = Date()
        if let stage = options.startStage, options.resume != nil {
            throw LessonError(["--stage \(stage) and --resume: a checkpoint continues its own stage; leave out --stage"])
        }
        let resume = try options.resume.map { try TrainingCheckpoint(reading: $0) }
        let seed = resume?.owner.seed ?? options.seed ?? lesson.seed
        let startIndex = try resume?.stageIndex(in: lesson, seed: options.seed, quick: options.quick) ?? firstStageIndex()
        setMatrixThreads(options.threads)
        let folder = try OutputFolder(outputRoot: options.outputRoot, lessonNumber: lesson.number)
        var metricsRows: [MetricsRow] = []
        var earlierSamples: [String: Tensor] = [:]
        var stageSummaries: [RunSummary.Stage] = []
        var interrupted = false, quit = false, failure: Error?, checkpoint: String?

        console.line("gan-lab · Lesson \(lesson.number): \(lesson.title)")
        let kernels = matrixKernelReport()
        let fastest = lesson.stages.contains { $0.productKernels == .fastest }
        console.line("seed \(seed) · \(options.threads) thread\(options.threads == 1 ? "" : "s") · "
                     + (fastest ? kernels.line : "portable products (\(kernels.portable)): the same numbers on every machine")
                     + "\(options.quick ? " · quick mode" : "") · writing to \(folder.root)")
        if let warning = kernels.warning { console.line(warning) }
        console.line()
        console.prose(lesson.introduction)

        var index = startIndex
        while index < lesson.stages.count {
            let plan = lesson.stages[index]
            console.heading("Stage \(plan.number) of \(lesson.stages.count) · \(plan.title)")
            console.prose(plan.introduction)
            let context = StageContext(plan: plan, folder: folder, console: console, quick: options.quick,
                                       format: options.format, random: plan.startingRandom(seed: seed),
                                       earlierSamples: earlierSamples, threads: options.threads,
                                       owner: RunOwner(lesson: lesson.number, title: lesson.title, seed: seed),
                                       resume: index == startIndex && stageSummaries.isEmpty ? resume : nil)
            var outcome = StageOutcome()
            do {
                outcome = try plan.run(context)
            } catch let error as TrainingInterrupted {
                outcome = error.outcome
                interrupted = true
            } catch let error as StageStopped {
                outcome = error.outcome
                quit = true
            } catch {
                failure = error
            }
            earlierSamples[plan.id] = outcome.finalSamples
            checkpoint = outcome.checkpoint
            metricsRows.removeAll { $0.stage == plan.number }  // a re-run replaces the stage's rows
            metricsRows += outcome.rows
            stageSummaries.removeAll { $0.number == plan.number }
            stageSummaries.append(RunSummary.Stage(
                number: plan.number, id: plan.id, kind: plan.kind, title: plan.title,
                settings: plan.settings.effective, metrics: outcome.metrics, figures: outcome.figures.map(folder.relative),
                completed: failure == nil && !interrupted && !quit))
            for figure in outcome.figures { console.line("  wrote \(figure)") }
            if failure != nil || interrupted || quit { break }
            console.line()
            console.prose(plan.conclusion)
            index += 1
            guard index < lesson.stages.count else { break }
            switch askBetweenStages(after: plan) {
            case .next: break
            case .rerun: index -= 1
            case .skipNext:
                console.line("  skipping stage \(index + 1): \(lesson.stages[index].title)")
                index += 1
            case .quit: quit = true
            }
            if quit { break }
        }

        let (fixedBy, machine) = RunSummary.machineFields(
            kernels: Set(lesson.stages.filter { plan in stageSummaries.contains { $0.number == plan.number } }.map(\.productKernels)))
        let summary = RunSummary(
            lesson: lesson.number, title: lesson.title, file: lesson.path, seed: seed, threads: options.threads,
            reproducible: fixedBy, machine: machine, quick: options.quick,
            overrides: lesson.overrides, interrupted: interrupted || quit,
            durationSeconds: (Date().timeIntervalSince(start) * 10).rounded() / 10,
            stages: stageSummaries, figures: folder.figures.map(folder.relative))
        try folder.write(MetricsRow.csv(metricsRows).data(using: .utf8)!,
                         name: "metrics.csv")
        try folder.write(LessonPage(lesson: lesson, summary: summary).html.data(using: .utf8)!, name: "index.html")
        try folder.write(summary.json(), name: "summary.json")
        if let failure { throw failure }
        console.line(interrupted ? "Interrupted: what was done is saved." : quit ? "Stopped here; what was done is saved." : "Lesson \(lesson.number) done.")
        console.line("  page: \(folder.root)/index.html · summary.json · metrics.csv")
        return RunResult(folder: folder.root, figures: folder.figures, interrupted: interrupted, quit: quit, checkpoint: checkpoint,
                         metrics: Dictionary(uniqueKeysWithValues: stageSummaries.map { ($0.id, $0.metrics) }))
    }

    /// The pause between stages; a re-run with new settings is validated here, problems shown, asked again.
    private func askBetweenStages(after plan: StagePlan) -> Console.Choice {
        while true {
            let choice = console.pauseBetweenStages()
            guard case .rerun(let settings) = choice, !settings.isEmpty else { return choice }
            let scoped = settings.map { $0.contains(".") && $0.firstIndex(of: ".")! < ($0.firstIndex(of: "=") ?? $0.endIndex) ? $0 : "\(plan.id).\($0)" }
            do {
                lesson = try lesson.overridden(with: scoped)
                console.line("  running stage \(plan.number) again with " + scoped.joined(separator: ", "))
                return choice
            } catch let error as LessonError {
                for problem in error.problems { console.line("  \(problem)") }
            } catch {
                console.line("  \(error)")
            }
        }
    }

    private func firstStageIndex() throws -> Int {
        guard let start = options.startStage else { return 0 }
        if let number = Int(start), (1...lesson.stages.count).contains(number) { return number - 1 }
        if let index = lesson.stages.firstIndex(where: { $0.id == start }) { return index }
        let known = lesson.stages.map { "\($0.number) (\($0.id))" }.joined(separator: ", ")
        throw LessonError(["--stage \(start): no such stage in lesson \(lesson.number); stages are \(known)"])
    }
}

extension StagePlan {
    /// The random source this stage starts from in a run of `seed` (a training stage's networks
    /// are its first draws): what `gan-lab lesson N --seed S --stage ID` gives the stage.
    func startingRandom(seed: UInt64) -> RandomSource { RandomSource(seed: stageSeed(seed, number)) }
}

/// Each stage gets its own generator, derived from the run's seed, so stages are reproducible alone.
func stageSeed(_ seed: UInt64, _ stage: Int) -> UInt64 {
    var mixer = RandomSource(seed: seed &+ UInt64(stage) &* 0x9E37_79B9_7F4A_7C15)
    return mixer.nextBits()
}
