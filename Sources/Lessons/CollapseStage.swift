import Charts
import Data
import Foundation
import GAN
import Kernels

/// One GAN of the lab on a mixture, watched as it trains: a filmstrip of samples, the modes it
/// occupies over time (a heatmap), and the final per-mode counts against the ideal uniform count.
enum CollapseStage: StageKind {
    static let name = "collapse"
    static let settings = collapseSettings + [
        SettingSpec("frames", .integer(2...100), "12"),
        SettingSpec("collapse-kl", .number(0...10), "0.1"),
    ]

    static func crossCheck(_ settings: StageSettings) -> [String] { checkCollapseSettings(settings) }

    static func run(_ context: StageContext) throws -> StageOutcome {
        let settings = context.settings, console = context.console
        let method = try CollapseMethod(settings)
        let mixture = settings.mixture
        let steps = context.quick ? min(settings.integer("steps"), 40) : settings.integer("steps")
        let frames = context.quick ? min(settings.integer("frames"), 4) : settings.integer("frames")
        let sampleCount = settings.integer("samples")
        var seedSource = context.random
        let run = CollapseRun(method: method, mixture: mixture, seed: runSeed(&seedSource), totalSteps: steps, stage: context.plan.number)
        let fixedNoise = run.trainer.sampleNoise(count: sampleCount, using: &seedSource)
        let shownReal = mixture.sample(count: 1000, using: &seedSource)
        console.line("  \(settings.text("mixture")) of \(mixture.modeCount) Gaussians, σ = \(fmt(mixture.std)); \(method.summary)")
        console.line("  \(grouped(steps)) steps of batch \(method.configuration.batchSize); \(frames) frames; metrics on \(grouped(sampleCount)) samples")

        let start = Date()
        var panels: [any Chart] = [], occupancy: [[Int]] = [], frameSteps: [Int] = [], captured: [Double] = [], quality: [Double] = []
        var coverage = ModeCoverage(samples: run.trainer.generate(from: fixedNoise), means: mixture.means, std: mixture.std)
        for frame in 1...frames {
            let target = steps * frame / frames
            run.loop.epoch = frame
            do {
                try run.train(steps: target - run.step)
            } catch is TrainingInterrupted {
                throw TrainingInterrupted(outcome: StageOutcome(rows: run.loop.rows))
            }
            let samples = run.trainer.generate(from: fixedNoise)
            coverage = ModeCoverage(samples: samples, means: mixture.means, std: mixture.std)
            occupancy.append(coverage.nearestCountsPerMode)
            frameSteps.append(run.step)
            captured.append(Double(coverage.modesCaptured))
            quality.append(coverage.highQualityPercent)
            run.loop.annotateLastRow(["modes_captured": Double(coverage.modesCaptured), "high_quality_percent": coverage.highQualityPercent])
            panels.append(samplesChart(title: "step \(grouped(run.step))", real: shownReal, fake: samples.prefix(rows: 1000),
                                       axes: mixture.axes))
            console.line("  step \(rightAligned(grouped(run.step), 7))  \(modeStrip(coverage))  \(rightAligned(String(coverage.modesCaptured), 2))/\(mixture.modeCount) modes"
                + "  high quality \(rightAligned(fixed(coverage.highQualityPercent, 1), 5)) %  D loss \(fixed(Double(run.loop.lastMetrics.discriminatorLoss)))")
        }
        let seconds = Date().timeIntervalSince(start)
        var figures: [String] = []
        let title = "Generated (orange) vs real (blue) samples over training; \(settings.text("mixture")), σ = \(fmt(mixture.std))"
        figures.append(try context.write(SmallMultiplesChart(title: title, panels: panels), name: "filmstrip"))
        figures.append(try context.write(occupancyChart(occupancy, steps: frameSteps, sampleCount: sampleCount), name: "modes-over-time"))
        figures.append(try context.write(modeBarChart(coverage, title: "Samples per mode after \(grouped(run.step)) steps"), name: "modes-final"))
        console.line("  \(coverage.modesCaptured)/\(mixture.modeCount) modes captured, \(fixed(coverage.highQualityPercent, 1)) % high quality, "
            + "reverse KL \(fixed(coverage.reverseKL, 2)) (uniform 0, one mode \(fixed(log(Double(mixture.modeCount)), 2))); \(fixed(seconds, 1)) s")
        let metrics: [String: Double] = [
            "modes_captured": Double(coverage.modesCaptured), "high_quality_percent": coverage.highQualityPercent,
            "reverse_kl": coverage.reverseKL.isFinite ? coverage.reverseKL : -1, "steps": Double(run.step),
            "collapsed": ScoreboardStage.collapsed(modes: Double(coverage.modesCaptured), divergence: coverage.reverseKL,
                                                   modeCount: mixture.modeCount, threshold: settings.number("collapse-kl")) ? 1 : 0,
            "min_modes_captured": captured.min() ?? 0, "max_modes_captured": captured.max() ?? 0,
            "distinct_occupied_modes": Double(distinctOccupied(occupancy, sampleCount: sampleCount)),
            "seconds": (seconds * 100).rounded() / 100,
        ]
        return StageOutcome(figures: figures, metrics: metrics, rows: run.loop.rows)
    }

    /// The seed of the stage's run (its networks and training), the first draw of its random source.
    static func runSeed(_ random: inout RandomSource) -> UInt64 { random.nextBits() }

    /// Modes that held the majority share (over a quarter of samples) in at least one frame: the hops.
    static func distinctOccupied(_ occupancy: [[Int]], sampleCount: Int) -> Int {
        guard let modes = occupancy.first?.count else { return 0 }
        return (0..<modes).filter { mode in occupancy.contains { $0[mode] * 4 > sampleCount } }.count
    }

    /// Share of samples nearest each mode (rows: modes) at each frame (columns).
    static func occupancyChart(_ occupancy: [[Int]], steps: [Int], sampleCount: Int) -> HeatmapChart {
        let modes = occupancy.first?.count ?? 0, frames = occupancy.count
        var values: [Double] = []
        for mode in 0..<modes {
            for frame in 0..<frames { values.append(Double(occupancy[frame][mode]) / Double(max(sampleCount, 1))) }
        }
        let last = Double(steps.last ?? 1), first = Double(steps.first ?? 0)
        let half = frames > 1 ? (last - first) / Double(frames - 1) / 2 : 0.5
        return HeatmapChart(title: "Where the generator's samples are: share nearest each mode, over training",
                            x: Axis("training step", domain: (first - half)...(last + half)),
                            y: Axis("mode", domain: -0.5...(Double(modes) - 0.5)), values: values, rows: modes, columns: frames,
                            gridX: (first - half)...(last + half), gridY: -0.5...(Double(modes) - 0.5), colorMap: .viridis,
                            valueRange: 0...1, colorBarLabel: "share of samples", contourLevel: nil)
    }
}

/// High-quality samples per mode against the count every mode gets when all are equally covered.
func modeBarChart(_ coverage: ModeCoverage, title: String) -> BarChart {
    BarChart(title: title, categories: (0..<coverage.modeCount).map { String($0) }, x: Axis("mode"),
             y: Axis("high-quality samples"), series: [BarSeries(name: "generated", values: coverage.countsPerMode.map(Double.init), color: Theme.fake)],
             idealValue: Double(coverage.sampleCount) * ModeCoverage.idealHighQualityPercent() / 100 / Double(coverage.modeCount),
             idealLabel: "ideal (true mixture)")
}

/// ● for a captured mode, ○ for a missed one.
func modeStrip(_ coverage: ModeCoverage) -> String {
    coverage.countsPerMode.map { $0 > 0 ? "●" : "○" }.joined()
}

func fmt(_ value: Double) -> String { String(format: "%g", value) }


extension Tensor {
    /// The first `count` rows.
    func prefix(rows count: Int) -> Tensor {
        let rows = Swift.min(count, shape[0]), width = self.count / Swift.max(shape[0], 1)
        return Tensor(shape: [rows] + Array(shape.dropFirst()), scalars: Array(scalars.prefix(rows * width)))
    }
}
