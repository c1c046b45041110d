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

    /// One method on one mixture over all seeds.
    struct Cell {
        var modes: [Double] = []
        var quality: [Double] = []
        var divergence: [Double] = []
        var seconds: [Double] = []
        var firstCoverage: ModeCoverage?
        var firstSamples: Tensor?
        /// The seed index of each entry above, in the order the runs finished.
        var order: [Int] = []

        /// Puts the entries in seed order (runs on several threads finish in any order).
        mutating func sortBySeed() {
            let permutation = order.indices.sorted { order[$0] < order[$1] }
            modes = permutation.map { modes[$0] }
            quality = permutation.map { quality[$0] }
            divergence = permutation.map { divergence[$0] }
            seconds = permutation.map { seconds[$0] }
            order = permutation.map { order[$0] }
        }
    }

    static func run(_ context: StageContext) throws -> StageOutcome {
        let settings = context.settings, console = context.console
        let recipes = methodNames(settings).compactMap(CollapseRecipe.named)
        let seeds = context.quick ? 1 : settings.integer("seeds")
        let limit = { (steps: Int) in context.quick ? min(steps, 40) : steps }
        let mixtures: [(name: String, mixture: GaussianMixture, steps: Int)] = [
            ("ring", GaussianMixture.ring(std: settings.number("ring-std")), limit(settings.integer("steps"))),
            ("grid", GaussianMixture.grid(std: settings.number("grid-std")), limit(settings.integer("grid-steps"))),
        ]
        if context.quick {
            console.line("  QUICK MODE: 1 seed and at most 40 steps per run; a smoke test, not results.")
        }
        console.line("  \(recipes.count) methods × \(mixtures.count) mixtures × \(seeds) seeds; ring \(grouped(mixtures[0].steps)) steps, "
            + "grid \(grouped(mixtures[1].steps)) steps (G updates) of batch \(settings.integer("batch-size")); metrics on \(grouped(settings.integer("samples"))) samples")
        console.line("  base: \(try CollapseMethod(settings).summary)")

        let start = Date()
        var baseSeed = context.random
        let seedValues = (0..<seeds).map { _ in baseSeed.nextBits() }  // the same seeds for every method
        // One method per (mixture, recipe), in print order; one job per (cell, seed).
        let plan = try mixtures.flatMap { entry in
            try recipes.map { recipe in
                (entry: entry, recipe: recipe, method: try CollapseMethod(StageSettings(
                    values: recipe.applied(to: settings).values.merging(["mixture": entry.name]) { _, new in new }, kind: settings.kind)))
            }
        }
        var cells = Array(repeating: Cell(), count: plan.count)
        var finished = Array(repeating: 0, count: plan.count), printed = 0
        // Runs are independent (own networks, own seeds), so they share the run's threads; each
        // run's products stay on one thread (they are far below the size a second thread helps),
        // so the numbers do not depend on how many runs go at once.
        setMatrixThreads(1)
        defer { setMatrixThreads(context.threads) }
        try forEachJob(plan.count * seeds, threads: context.threads, { job -> (Cell, Double) in
            let (cell, index) = job.quotientAndRemainder(dividingBy: seeds)
            let runStart = Date()
            let run = CollapseRun(method: plan[cell].method, mixture: plan[cell].entry.mixture, seed: seedValues[index])
            try run.train(steps: plan[cell].entry.steps, of: plan[cell].entry.steps)
            let (coverage, samples) = run.coverage(samples: settings.integer("samples"))
            var result = Cell()
            result.modes = [Double(coverage.modesCaptured)]
            result.quality = [coverage.highQualityPercent]
            result.divergence = [coverage.reverseKL]
            if index == 0 { result.firstCoverage = coverage; result.firstSamples = samples }
            return (result, Date().timeIntervalSince(runStart))
        }, completed: { job, outcome in
            let (cell, index) = job.quotientAndRemainder(dividingBy: seeds)
            let (result, seconds) = outcome
            cells[cell].modes.append(contentsOf: result.modes)  // placed by seed below, once all are in
            cells[cell].quality.append(contentsOf: result.quality)
            cells[cell].divergence.append(contentsOf: result.divergence)
            cells[cell].seconds.append(seconds)
            cells[cell].order.append(index)
            if index == 0 { cells[cell].firstCoverage = result.firstCoverage; cells[cell].firstSamples = result.firstSamples }
            finished[cell] += 1
            let (entry, recipe) = (plan[cell].entry, plan[cell].recipe)
            console.progress("\(entry.name) · \(recipe.label) · seed \(index + 1)/\(seeds): \(Int(result.modes[0]))/\(entry.mixture.modeCount) modes, "
                + "\(fixed(result.quality[0], 1)) % high quality", final: false)
            while printed < plan.count, finished[printed] == seeds {
                cells[printed].sortBySeed()
                let done = cells[printed], (entry, recipe) = (plan[printed].entry, plan[printed].recipe)
                console.progress("\(rightAligned(entry.name, 4)) \(recipe.label.padding(toLength: 34, withPad: " ", startingAt: 0)) modes "
                    + done.modes.map { String(Int($0)) }.joined(separator: " ") + "  high quality "
                    + done.quality.map { fixed($0, 0) }.joined(separator: " ") + " %  (\(fixed(mean(done.seconds), 1)) s/run)", final: true)
                printed += 1
            }
        })
        let cellsByName = Dictionary(uniqueKeysWithValues: zip(plan.map { "\($0.entry.name)/\($0.recipe.name)" }, cells))
        let seconds = Date().timeIntervalSince(start)
        printTable(console: console, recipes: recipes, mixtures: mixtures.map { ($0.name, $0.mixture) }, cells: cellsByName, seeds: seeds)
        console.line("  \(recipes.count * mixtures.count * seeds) runs in \(fixed(seconds, 1)) s on \(min(context.threads, plan.count * seeds)) thread\(context.threads == 1 ? "" : "s")")

        var figures = [try context.write(scoreboardChart(recipes: recipes, cells: cellsByName, seeds: seeds), name: "scoreboard")]
        for entry in mixtures {
            let panels: [any Chart] = recipes.compactMap { recipe in
                cellsByName["\(entry.name)/\(recipe.name)"]?.firstSamples.map {
                    samplesChart(title: recipe.name, real: entry.mixture.sample(count: 500, using: &baseSeed), fake: $0.prefix(rows: 1000),
                                 axes: entry.mixture.axes)
                }
            }
            figures.append(try context.write(SmallMultiplesChart(
                title: "Generated samples (first seed) on the \(entry.name), σ = \(fmt(entry.mixture.std))", panels: panels), name: "samples-\(entry.name)"))
            let bars: [any Chart] = recipes.compactMap { recipe in
                cellsByName["\(entry.name)/\(recipe.name)"]?.firstCoverage.map { modeBarChart($0, title: recipe.name) }
            }
            figures.append(try context.write(SmallMultiplesChart(
                title: "High-quality samples per mode (first seed) on the \(entry.name); dashed: the true mixture's count", panels: bars),
                name: "modes-\(entry.name)"))
        }
        var metrics: [String: Double] = ["seeds": Double(seeds), "seconds": (seconds * 100).rounded() / 100]
        for (key, cell) in cellsByName {
            let prefix = key.replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "-", with: "_")
            metrics[prefix + "_modes_mean"] = mean(cell.modes)
            metrics[prefix + "_modes_se"] = standardError(cell.modes)
            metrics[prefix + "_modes_min"] = cell.modes.min() ?? 0
            metrics[prefix + "_quality_mean"] = mean(cell.quality)
            metrics[prefix + "_quality_se"] = standardError(cell.quality)
            metrics[prefix + "_quality_min"] = cell.quality.min() ?? 0
            metrics[prefix + "_kl_mean"] = mean(cell.divergence.map { $0.isFinite ? $0 : log(25) })
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

/// "mean ± se" with `digits` decimals.
func meanAndError(_ values: [Double], _ digits: Int) -> String {
    "\(fixed(mean(values), digits)) ± \(fixed(standardError(values), digits))"
}
