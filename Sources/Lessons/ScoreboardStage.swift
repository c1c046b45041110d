import Charts
import Data
import Foundation
import GAN
import Kernels

/// Every recipe on the ring and the grid over several seeds: modes captured and high-quality
/// percentage (mean ± standard error), the reverse KL of the mode histogram, with the
/// literature's rows beside ours; a figure of the same, and each method's samples and mode counts.
enum ScoreboardStage: StageKind {
    static let name = "scoreboard"
    static let settings = collapseSettings + [
        SettingSpec("methods", .text, CollapseRecipe.names.joined(separator: ", ")),
        SettingSpec("seeds", .integer(1...100), "5"),
        SettingSpec("ring-std", .number(1e-4...10), "0.01"),
        SettingSpec("grid-std", .number(1e-4...10), "0.05"),
        SettingSpec("grid-steps", .integer(1...10_000_000), "6000"),
        SettingSpec("combined-steps", .integer(0...10_000_000), "0"),
        SettingSpec("combined-grid-steps", .integer(0...10_000_000), "0"),
        SettingSpec("collapse-kl", .number(0...10), "0.1"),
    ]

    static func crossCheck(_ settings: StageSettings) -> [String] {
        var problems = checkCollapseSettings(settings)
        for name in methodNames(settings) where CollapseRecipe.named(name) == nil {
            problems.append("unknown method \"\(name)\" in methods (known: \(CollapseRecipe.names.joined(separator: ", ")))")
        }
        return problems
    }

    static func methodNames(_ settings: StageSettings) -> [String] {
        settings.text("methods").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Generator steps of `recipe` on the ring or the grid: the `combined` recipe may have its own
    /// budget (`combined-steps`, `combined-grid-steps`; 0: the same as every other method).
    static func steps(_ settings: StageSettings, recipe: CollapseRecipe, mixture: String) -> Int {
        let key = mixture == "grid" ? "grid-steps" : "steps"
        let own = recipe.name == "combined" ? settings.integer("combined-" + key) : 0
        return own > 0 ? own : settings.integer(key)
    }

    /// A run has collapsed when it misses a mode or its mode histogram is far from uniform.
    static func collapsed(modes: Double, divergence: Double, modeCount: Int, threshold: Double) -> Bool {
        Int(modes) < modeCount || !(divergence < threshold)
    }

    /// One training run: its mode coverage, and for the first seed what the figures show.
    struct RunResult {
        var modes: Double, quality: Double, divergence: Double, seconds: Double
        var firstCoverage: ModeCoverage?, firstSamples: Tensor?
    }

    /// One method on one mixture over all seeds, in seed order.
    struct Cell {
        var modes: [Double], quality: [Double], divergence: [Double], seconds: [Double]
        /// Reverse KLs with an infinite one (no high-quality sample at all) counted as log K.
        var countedDivergence: [Double]
        var collapsedSeeds: Int
        var firstCoverage: ModeCoverage?, firstSamples: Tensor?

        init(_ runs: [RunResult], modeCount: Int, threshold: Double) {
            modes = runs.map(\.modes)
            quality = runs.map(\.quality)
            divergence = runs.map(\.divergence)
            seconds = runs.map(\.seconds)
            countedDivergence = divergence.map { $0.isFinite ? $0 : log(Double(modeCount)) }
            collapsedSeeds = runs.filter {
                collapsed(modes: $0.modes, divergence: $0.divergence, modeCount: modeCount, threshold: threshold)
            }.count
            firstCoverage = runs.first?.firstCoverage
            firstSamples = runs.first?.firstSamples
        }
    }

    static func run(_ context: StageContext) throws -> StageOutcome {
        let settings = context.settings, console = context.console
        let recipes = methodNames(settings).compactMap(CollapseRecipe.named)
        let seeds = context.quick ? 1 : settings.integer("seeds")
        let limit = { (steps: Int) in context.quick ? min(steps, 40) : steps }
        let mixtures: [(name: String, mixture: GaussianMixture)] = [
            ("ring", GaussianMixture.ring(std: settings.number("ring-std"))),
            ("grid", GaussianMixture.grid(std: settings.number("grid-std"))),
        ]
        let threshold = settings.number("collapse-kl")
        if context.quick {
            console.line("  QUICK MODE: 1 seed and at most 40 steps per run; a smoke test, not results.")
        }
        console.line("  \(recipes.count) methods × \(mixtures.count) mixtures × \(seeds) seeds; ring \(grouped(limit(settings.integer("steps")))) steps, "
            + "grid \(grouped(limit(settings.integer("grid-steps")))) steps (G updates) of batch \(settings.integer("batch-size")); metrics on \(grouped(settings.integer("samples"))) samples")
        if !context.quick, let combined = recipes.first(where: { $0.name == "combined" }),
           mixtures.contains(where: { steps(settings, recipe: combined, mixture: $0.name) != settings.integer($0.name == "grid" ? "grid-steps" : "steps") }) {
            console.line("  \(combined.label) has its own budget: ring \(grouped(steps(settings, recipe: combined, mixture: "ring"))) steps, "
                + "grid \(grouped(steps(settings, recipe: combined, mixture: "grid"))) steps")
        }
        console.line("  base: \(try CollapseMethod(settings).summary)")
        console.line("  collapsed: fewer modes captured than there are, or reverse KL of the mode histogram ≥ \(fmt(threshold))")

        let start = Date()
        var baseSeed = context.random
        let seedValues = (0..<seeds).map { _ in baseSeed.nextBits() }  // the same seeds for every method
        // One cell per (mixture, recipe), in print order; one job per (cell, seed).
        let plan = try mixtures.flatMap { entry in
            try recipes.map { recipe in
                (entry: entry, recipe: recipe, steps: limit(steps(settings, recipe: recipe, mixture: entry.name)),
                 method: try CollapseMethod(StageSettings(
                    values: recipe.applied(to: settings).values.merging(["mixture": entry.name]) { _, new in new }, kind: settings.kind)))
            }
        }
        // Runs are independent (own networks, own seeds), so they share the run's threads, one
        // run per thread (each job's products stay on its thread: the same numbers as alone).
        var runs = Array(repeating: [RunResult?](repeating: nil, count: seeds), count: plan.count)
        var results: [Cell] = [], done = 0
        do {
            try forEachJob(plan.count * seeds, threads: context.threads, { job -> RunResult in
                let (cell, index) = job.quotientAndRemainder(dividingBy: seeds)
                let runStart = Date()
                let run = CollapseRun(method: plan[cell].method, mixture: plan[cell].entry.mixture, seed: seedValues[index],
                                      totalSteps: plan[cell].steps)
                try run.train(steps: plan[cell].steps)
                let (coverage, samples) = run.coverage(samples: settings.integer("samples"))
                return RunResult(modes: Double(coverage.modesCaptured), quality: coverage.highQualityPercent,
                                 divergence: coverage.reverseKL, seconds: Date().timeIntervalSince(runStart),
                                 firstCoverage: index == 0 ? coverage : nil, firstSamples: index == 0 ? samples : nil)
            }, completed: { job, result in
                let (cell, index) = job.quotientAndRemainder(dividingBy: seeds)
                runs[cell][index] = result
                done += 1
                let (entry, recipe) = (plan[cell].entry, plan[cell].recipe)
                console.progress("\(entry.name) · \(recipe.label) · seed \(index + 1)/\(seeds): \(Int(result.modes))/\(entry.mixture.modeCount) modes, "
                    + "\(fixed(result.quality, 1)) % high quality", final: false)
                // Each cell's lines in print order, once all its seeds are in (runs finish in any order).
                while results.count < plan.count {
                    let next = runs[results.count].compactMap { $0 }
                    if next.count < seeds { break }
                    let (entry, recipe) = (plan[results.count].entry, plan[results.count].recipe)
                    let cell = Cell(next, modeCount: entry.mixture.modeCount, threshold: threshold)
                    results.append(cell)
                    console.progress("\(rightAligned(entry.name, 4)) \(recipe.label.padding(toLength: labelWidth, withPad: " ", startingAt: 0)) modes "
                        + cell.modes.map { String(Int($0)) }.joined(separator: " ") + "  high quality "
                        + cell.quality.map { fixed($0, 0) }.joined(separator: " ") + " %  (\(fixed(mean(cell.seconds), 1)) s/run)", final: true)
                    console.line("  " + String(repeating: " ", count: labelWidth + 6) + "rev. KL "
                        + cell.divergence.map { $0.isFinite ? fixed($0, 2) : "∞" }.joined(separator: " ")
                        + ": collapsed in \(cell.collapsedSeeds) of \(seeds)")
                }
            })
        } catch is TrainingInterrupted {
            console.progress("interrupted after \(done) of \(plan.count * seeds) runs: the table needs every run, so none is written", final: true)
            throw TrainingInterrupted(outcome: StageOutcome(metrics: ["runs_completed": Double(done)]))
        }
        let cells = Dictionary(uniqueKeysWithValues: zip(plan.map { "\($0.entry.name)/\($0.recipe.name)" }, results))
        let seconds = Date().timeIntervalSince(start)
        printTable(console: console, recipes: recipes, mixtures: mixtures, cells: cells, seeds: seeds)
        console.line("  \(recipes.count * mixtures.count * seeds) runs in \(fixed(seconds, 1)) s on \(min(context.threads, plan.count * seeds)) thread\(context.threads == 1 ? "" : "s")")

        var figures = [try context.write(scoreboardChart(recipes: recipes, cells: cells, seeds: seeds), name: "scoreboard")]
        for entry in mixtures {
            let panels: [any Chart] = recipes.compactMap { recipe in
                cells["\(entry.name)/\(recipe.name)"]?.firstSamples.map {
                    samplesChart(title: recipe.name, real: entry.mixture.sample(count: 500, using: &baseSeed), fake: $0.prefix(rows: 1000),
                                 axes: entry.mixture.axes)
                }
            }
            figures.append(try context.write(SmallMultiplesChart(
                title: "Generated samples (first seed) on the \(entry.name), σ = \(fmt(entry.mixture.std))", panels: panels), name: "samples-\(entry.name)"))
            let bars: [any Chart] = recipes.compactMap { recipe in
                cells["\(entry.name)/\(recipe.name)"]?.firstCoverage.map { modeBarChart($0, title: recipe.name) }
            }
            figures.append(try context.write(SmallMultiplesChart(
                title: "High-quality samples per mode (first seed) on the \(entry.name); dashed: the true mixture's count", panels: bars),
                name: "modes-\(entry.name)"))
        }
        var metrics: [String: Double] = ["seeds": Double(seeds), "seconds": (seconds * 100).rounded() / 100]
        for (key, cell) in cells {
            let prefix = key.replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "-", with: "_")
            metrics[prefix + "_modes_mean"] = mean(cell.modes)
            metrics[prefix + "_modes_se"] = standardError(cell.modes)
            metrics[prefix + "_modes_min"] = cell.modes.min() ?? 0
            metrics[prefix + "_modes_max"] = cell.modes.max() ?? 0
            metrics[prefix + "_quality_mean"] = mean(cell.quality)
            metrics[prefix + "_quality_se"] = standardError(cell.quality)
            metrics[prefix + "_quality_min"] = cell.quality.min() ?? 0
            metrics[prefix + "_kl_mean"] = mean(cell.countedDivergence)
            metrics[prefix + "_kl_min"] = cell.countedDivergence.min() ?? 0
            metrics[prefix + "_collapsed_seeds"] = Double(cell.collapsedSeeds)
            metrics[prefix + "_seconds_per_run"] = (mean(cell.seconds) * 100).rounded() / 100
        }
        return StageOutcome(figures: figures, metrics: metrics)
    }
}

func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }

/// Sample standard deviation / √n (0 for a single value).
func standardError(_ values: [Double]) -> Double {
    guard values.count > 1 else { return 0 }
    let m = mean(values)
    let variance = values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1)
    return (variance / Double(values.count)).squareRoot()
}

/// Spearman's rank correlation of two equally long series (ties share their mean rank); 0 when
/// either is constant.
func rankCorrelation(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "rank correlation needs series of one length")
    func ranks(_ values: [Double]) -> [Double] {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var result = [Double](repeating: 0, count: values.count)
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count, values[order[end + 1]] == values[order[start]] { end += 1 }
            for position in start...end { result[order[position]] = Double(start + end) / 2 + 1 }
            start = end + 1
        }
        return result
    }
    let (x, y) = (ranks(a), ranks(b))
    let (mx, my) = (mean(x), mean(y))
    var (sxy, sxx, syy) = (0.0, 0.0, 0.0)
    for (u, v) in zip(x, y) {
        sxy += (u - mx) * (v - my)
        sxx += (u - mx) * (u - mx)
        syy += (v - my) * (v - my)
    }
    return sxx > 0 && syy > 0 ? sxy / (sxx * syy).squareRoot() : 0
}

/// "mean ± se" with `digits` decimals.
func meanAndError(_ values: [Double], _ digits: Int) -> String {
    "\(fixed(mean(values), digits)) ± \(fixed(standardError(values), digits))"
}
