import Charts
import Data
import Foundation
import GAN

extension ScoreboardStage {
    /// The scoreboard as the class reads it, ours first, then the published rows.
    static func printTable(console: Console, recipes: [CollapseRecipe], mixtures: [(name: String, mixture: GaussianMixture)],
                           cells: [String: Cell], seeds: Int) {
        let methodWidth = 34
        func column(_ text: String, _ width: Int) -> String { text.padding(toLength: width, withPad: " ", startingAt: 0) }
        console.line()
        var header = column("", methodWidth)
        console.line("  mean ± standard error over \(seeds) seed\(seeds == 1 ? "" : "s")")
        var subheader = column("method", methodWidth)
        for entry in mixtures {
            header += column("\(entry.name): \(entry.mixture.modeCount) modes, σ = \(fmt(entry.mixture.std))", 37)
            subheader += column("modes", 13) + column("high qual. %", 15) + column("rev. KL", 9)
        }
        console.line("  " + header)
        console.line("  " + subheader)
        for recipe in recipes {
            var line = column(recipe.label, methodWidth)
            for entry in mixtures {
                guard let cell = cells["\(entry.name)/\(recipe.name)"] else { continue }
                line += column(meanAndError(cell.modes, 1), 13) + column(meanAndError(cell.quality, 1), 15)
                    + column(fixed(mean(cell.divergence.map { $0.isFinite ? $0 : log(Double(entry.mixture.modeCount)) }), 2), 9)
            }
            console.line("  " + line)
        }
        console.line("  " + column("published, for reference:", methodWidth))
        for row in LiteratureRow.all {
            console.line("  " + column("\(row.method) — \(row.source)", methodWidth + 12))
            console.line("  " + column("", methodWidth) + column(row.ringModes, 13) + column(row.ringQuality, 15) + column("", 9)
                + column(row.gridModes, 13) + column(row.gridQuality, 15))
        }
        console.line("  (an infinite reverse KL, no high-quality sample at all, is counted as log K)")
    }

    /// Modes captured and high-quality percentage per method on each mixture, with the ideal as a dashed line.
    static func scoreboardChart(recipes: [CollapseRecipe], cells: [String: Cell], seeds: Int) -> SmallMultiplesChart {
        let names = recipes.map(\.shortName)
        func values(_ mixture: String, _ pick: (Cell) -> [Double]) -> [Double] {
            recipes.map { cells["\(mixture)/\($0.name)"].map { mean(pick($0)) } ?? .nan }
        }
        let ideal = ModeCoverage.idealHighQualityPercent()
        let panels: [any Chart] = [
            BarChart(title: "ring: modes captured (of 8)", categories: names, y: Axis("modes", domain: 0...8),
                     series: [BarSeries(name: "ours, mean of \(seeds)", values: values("ring") { $0.modes }, color: Theme.fake)],
                     idealValue: 8, idealLabel: "all modes"),
            BarChart(title: "ring: high-quality samples %", categories: names, y: Axis("%", domain: 0...100),
                     series: [BarSeries(name: "ours, mean of \(seeds)", values: values("ring") { $0.quality }, color: Theme.real)],
                     idealValue: ideal, idealLabel: "true mixture (98.9 %)"),
            BarChart(title: "grid: modes captured (of 25)", categories: names, y: Axis("modes", domain: 0...25),
                     series: [BarSeries(name: "ours, mean of \(seeds)", values: values("grid") { $0.modes }, color: Theme.fake)],
                     idealValue: 25, idealLabel: "all modes"),
            BarChart(title: "grid: high-quality samples %", categories: names, y: Axis("%", domain: 0...100),
                     series: [BarSeries(name: "ours, mean of \(seeds)", values: values("grid") { $0.quality }, color: Theme.real)],
                     idealValue: ideal, idealLabel: "true mixture (98.9 %)"),
        ]
        return SmallMultiplesChart(title: "Mode collapse scoreboard: every method, \(seeds) seed\(seeds == 1 ? "" : "s") each",
                                   panels: panels, columns: 1, shareAxes: false, shareLegend: false)
    }
}
