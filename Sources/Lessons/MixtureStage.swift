import Charts
import Data
import Foundation
import GAN
import Kernels

/// The two benchmarks, drawn, and the metrics checked on the true mixture itself: the ceiling
/// every generator is measured against.
enum MixtureStage: StageKind {
    static let name = "mixtures"
    static let settings = [
        SettingSpec("ring-std", .number(1e-4...10), "0.01"),
        SettingSpec("grid-std", .number(1e-4...10), "0.05"),
        SettingSpec("picture-std", .number(1e-4...10), "0.05"),
        SettingSpec("samples", .integer(1...1_000_000), "2500"),
    ]

    static func run(_ context: StageContext) throws -> StageOutcome {
        let settings = context.settings, console = context.console
        var random = context.random
        let count = settings.integer("samples")
        let mixtures: [(name: String, mixture: GaussianMixture)] = [
            ("ring", .ring(std: settings.number("ring-std"))),
            ("ring (for pictures)", .ring(std: settings.number("picture-std"))),
            ("grid", .grid(std: settings.number("grid-std"))),
        ]
        var panels: [any Chart] = [], metrics: [String: Double] = [:]
        console.line("  The true mixtures judged by the metrics (\(grouped(count)) samples each; ceiling \(fixed(ModeCoverage.idealHighQualityPercent(), 1)) % high quality):")
        for (index, entry) in mixtures.enumerated() {
            let samples = entry.mixture.sample(count: count, using: &random)
            let coverage = ModeCoverage(samples: samples, means: entry.mixture.means, std: entry.mixture.std)
            console.line("    \(entry.name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(entry.mixture.modeCount) modes, σ = \(fmt(entry.mixture.std)): "
                + "\(coverage.modesCaptured)/\(entry.mixture.modeCount) captured, \(fixed(coverage.highQualityPercent, 1)) % high quality, "
                + "reverse KL \(fixed(coverage.reverseKL, 3))")
            let key = ["ring", "ring_picture", "grid"][index]
            metrics[key + "_modes_captured"] = Double(coverage.modesCaptured)
            metrics[key + "_high_quality_percent"] = coverage.highQualityPercent
            let points = coordinates(samples.prefix(rows: 1000))
            panels.append(ScatterChart(title: "\(entry.name): \(entry.mixture.modeCount) modes, σ = \(fmt(entry.mixture.std))",
                                       x: Axis("x₁", domain: entry.mixture.axes), y: Axis("x₂", domain: entry.mixture.axes),
                                       series: [ScatterSeries(name: "real", xs: points.xs, ys: points.ys, color: Theme.real, pointSize: 3, alpha: 0.5)],
                                       equalAspect: true))
        }
        let figure = try context.write(SmallMultiplesChart(title: "The benchmarks: 1,000 samples of each mixture", panels: panels,
                                                           columns: 3, shareAxes: false), name: "mixtures")
        return StageOutcome(figures: [figure], metrics: metrics)
    }
}
