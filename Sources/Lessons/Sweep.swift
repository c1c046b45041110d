import Foundation
import Kernels

/// One stage of a lesson run alone on several seeds, side by side: how a lesson author checks a
/// claim about chance ("the vanilla GAN collapses in most seeds") as a rate, not one seed's row.
public struct Sweep {
    public let lesson: Lesson
    public let stage: StagePlan
    public let seeds: [UInt64]

    /// One seed's run: the stage's final metrics.
    public struct Run {
        public let seed: UInt64
        public let metrics: [String: Double]
    }

    /// Mean, standard error of the mean, lowest and highest of one metric over the runs.
    public struct Statistics: Equatable {
        public let mean: Double, standardError: Double, lowest: Double, highest: Double

        public init(_ values: [Double]) {
            (mean, standardError) = (Lessons.mean(values), Lessons.standardError(values))
            (lowest, highest) = (values.min() ?? 0, values.max() ?? 0)
        }
    }

    /// Finds the stage by number or id; rejects seeds a sweep cannot use.
    public init(lesson: Lesson, stage: String, seeds: [UInt64]) throws {
        guard let plan = lesson.stages.first(where: { $0.id == stage || String($0.number) == stage }) else {
            throw LessonError(["no stage \"\(stage)\" in lesson \(lesson.number) (stages: \(lesson.stages.map(\.id).joined(separator: ", ")))"])
        }
        guard !seeds.isEmpty else { throw LessonError(["a sweep needs at least one seed"]) }
        self.lesson = lesson
        self.stage = plan
        self.seeds = seeds
    }

    /// Runs the stage once per seed, `threads` runs at a time (each on one thread, so a seed's
    /// numbers are those of `gan-lab lesson N --seed S --stage ID`, whatever `threads`), each
    /// writing its figures under `<outputRoot>/lesson-NN-sweep/seed-S/`. `finished` is called as
    /// each run ends, one call at a time. Returns the runs in seed order.
    public func run(outputRoot: String, quick: Bool, threads: Int, finished: (Run) -> Void) throws -> [Run] {
        let root = (outputRoot as NSString).appendingPathComponent(String(format: "lesson-%02d-sweep", lesson.number))
        setProductKernels(stage.productKernels)  // once, for every run (the runs go side by side)
        let folders = try seeds.map { seed in
            try OutputFolder(outputRoot: (root as NSString).appendingPathComponent("seed-\(seed)"), lessonNumber: lesson.number)
        }
        var runs: [Run?] = Array(repeating: nil, count: seeds.count)
        // The scoreboard runs its own seeds side by side: a sweep of it runs one seed at a time.
        let parallel = stage.kind == ScoreboardStage.name ? 1 : threads
        try forEachJob(seeds.count, threads: parallel, { index in
            let context = StageContext(plan: stage, folder: folders[index], console: Console(write: { _ in }), quick: quick,
                                       format: .png, random: stage.startingRandom(seed: seeds[index]),
                                       threads: parallel == 1 ? threads : 1)
            guard let kind = stageKind(named: stage.kind) else { throw LessonError(["unknown stage kind \(stage.kind)"]) }
            return Run(seed: seeds[index], metrics: try kind.run(context).metrics)
        }, completed: { index, run in
            runs[index] = run
            finished(run)
        })
        return runs.map { $0! }
    }

    /// The metrics every run reported, sorted (timings left out: they are not outcomes).
    public static func metricNames(_ runs: [Run]) -> [String] {
        guard let first = runs.first else { return [] }
        return first.metrics.keys.filter { name in !name.contains("seconds") && runs.allSatisfy { $0.metrics[name] != nil } }.sorted()
    }

    /// "seed,metric,…" then one line per run: the sweep as a table a write-up can cite.
    public static func csv(_ runs: [Run], metrics: [String]) -> String {
        (["seed," + metrics.joined(separator: ",")]
            + runs.map { run in "\(run.seed)," + metrics.map { run.metrics[$0].map { "\($0)" } ?? "" }.joined(separator: ",") })
            .joined(separator: "\n") + "\n"
    }
}

/// Parses "1-10", "3", "1,4,9" or "1-3,7" into seeds, in order, without repeats.
public func parseSeeds(_ text: String) -> [UInt64]? {
    var seeds: [UInt64] = []
    for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
        let bounds = part.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
            .map { UInt64($0.trimmingCharacters(in: .whitespaces)) }
        guard !bounds.isEmpty, bounds.allSatisfy({ $0 != nil }) else { return nil }
        let low = bounds[0]!, high = bounds.count == 2 ? bounds[1]! : low
        guard low <= high, high - low < 10_000 else { return nil }
        for seed in low...high where !seeds.contains(seed) { seeds.append(seed) }
    }
    return seeds.isEmpty ? nil : seeds
}
