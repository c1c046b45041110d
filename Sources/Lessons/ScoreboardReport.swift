import Charts
import Data
import Foundation
import GAN

extension ScoreboardStage {
    /// Width of the method column: the longest recipe label and a space.
    static let labelWidth = 40

    /// The scoreboard as the class reads it, ours first, then the published rows.
    static func printTable(console: Console, recipes: [CollapseRecipe], mixtures: [(name: String, mixture: GaussianMixture)],
                           cells: [String: Cell], seeds: Int) {
        func column(_ text: String, _ width: Int) -> String { text.padding(toLength: width, withPad: " ", startingAt: 0) }
        console.line()
        var header = column("", labelWidth)
        console.line("  mean ± standard error over \(seeds) seed\(seeds == 1 ? "" : "s")")
        var subheader = column("method", labelWidth)
        for entry in mixtures {
            header += column("\(entry.name): \(entry.mixture.modeCount) modes, σ = \(fmt(entry.mixture.std))", 37)
            subheader += column("modes", 13) + column("high qual. %", 15) + column("rev. KL", 9)
        }
        console.line("  " + header)
        console.line("  " + subheader)
        for recipe in recipes {
            var line = column(recipe.label, labelWidth)
            for entry in mixtures {
                guard let cell = cells["\(entry.name)/\(recipe.name)"] else { continue }
                line += column(meanAndError(cell.modes, 1), 13) + column(meanAndError(cell.quality, 1), 15)
                    + column(fixed(mean(cell.countedDivergence), 2), 9)
            }
            console.line("  " + line)
        }
        console.line("  " + column("published, for reference:", labelWidth))
        for row in LiteratureRow.all {
            console.line("  " + column("\(row.method) — \(row.source)", labelWidth + 12))
            console.line("  " + column("", labelWidth) + column(row.ringModes, 13) + column(row.ringQuality, 15) + column("", 9)
                + column(row.gridModes, 13) + column(row.gridQuality, 15))
        }
        console.line("  (an infinite reverse KL, no high-quality sample at all, is counted as log K)")
    }

    /// Modes captured (as a share of all modes) and high-quality percentage per method, ring and grid
    /// side by side, with the ideal as a dashed line.
    static func scoreboardChart(recipes: [CollapseRecipe], cells: [String: Cell], seeds: Int) -> SmallMultiplesChart {
        // Numbered bars with the key as the axis title: ten names do not fit under ten bars.
        let names = recipes.indices.map { String($0 + 1) }
        let key = Axis(recipes.enumerated().map { "\($0.offset + 1):\($0.element.shortName)" }.joined(separator: " "))
        func values(_ mixture: String, _ pick: (Cell) -> Double) -> [Double] {
            recipes.map { cells["\(mixture)/\($0.name)"].map(pick) ?? .nan }
        }
        let modes = { (mixture: String, count: Double) in
            BarSeries(name: "\(mixture) (of \(Int(count)))", values: values(mixture) { 100 * mean($0.modes) / count },
                      color: Theme.palette[mixture == "ring" ? 1 : 4], errors: values(mixture) { 100 * standardError($0.modes) / count })
        }
        let quality = { (mixture: String) in
            BarSeries(name: mixture, values: values(mixture) { mean($0.quality) }, color: Theme.palette[mixture == "ring" ? 1 : 4],
                      errors: values(mixture) { standardError($0.quality) })
        }
        let over = seeds > 1 ? "mean ± s.e. over \(seeds) seeds" : "1 seed"
        let panels: [any Chart] = [
            BarChart(title: "Modes captured, % (\(over))", categories: names, x: key,
                     y: Axis("% of modes", domain: 0...100), series: [modes("ring", 8), modes("grid", 25)],
                     idealValue: 100, idealLabel: "all modes"),
            BarChart(title: "High-quality samples, % (\(over))", categories: names, x: key,
                     y: Axis("% high quality", domain: 0...100), series: [quality("ring"), quality("grid")],
                     idealValue: ModeCoverage.idealHighQualityPercent(), idealLabel: "true mixture (98.9 %)"),
        ]
        return SmallMultiplesChart(title: "Mode collapse scoreboard: every method on the ring and the grid",
                                   panels: panels, columns: 1, shareAxes: false, shareLegend: false)
    }
}
