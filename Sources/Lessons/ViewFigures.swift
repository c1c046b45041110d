import Charts
import Data
import Foundation
import GAN
import Kernels

extension ToyViews {
    /// The views' figures of the current state; returns the paths written.
    func snapshot(label: String, title: String, real: Tensor, fakeNoise: Tensor) throws -> [String] {
        var written: [String] = []
        if kinds.contains(.surface) {
            let surface = surfaceChart(title: title + " · D(x) and its push on the fakes", real: real, fakeNoise: fakeNoise)
            layeredFrames.append(surface)
            written.append(try write(surface, name: "layers-\(label)"))
        }
        if kinds.contains(.manifold) {
            written.append(try write(manifoldChart(title: "\(momentTitle(label).capitalized): the noise square through G", real: real),
                                     name: "manifold-\(label)"))
        }
        if kinds.contains(.features) {
            let now = features()
            featureSequence.append((momentTitle(label), now))
            for (network, name) in [(UpdatedNetwork.discriminator, "discriminator"), (.generator, "generator")] {
                guard let pair = lastPairs[network] else { continue }
                let chart = FeatureSpaceChart(
                    title: "\(momentTitle(label).capitalized): D's 2-D features, one \(name) update", x: Axis("feature 1"),
                    y: Axis("feature 2"), before: pair.before, after: pair.after,
                    beforeTitle: "before the \(name) update", afterTitle: "after it")
                written.append(try write(chart, name: "features-\(name == "generator" ? "g" : "d")-\(label)"))
                context.console.line("  " + centroidLine(name, pair.before, pair.after))
            }
        }
        return written
    }

    /// End-of-training figures and numbers; returns the paths written and the metrics.
    func finish(rows: [MetricsRow]) throws -> ([String], [String: Double]) {
        var written: [String] = []
        var metrics: [String: Double] = [:]
        let console = context.console
        if layeredFrames.count >= 2 {
            let path = try context.folder.path(stage: context.plan.number, name: "layers.gif")
            do {
                try renderAnimation(layeredFrames, to: path, options: RenderOptions(width: 800, height: 600),
                                    frameDelay: 0.4)
            } catch let error as ChartError { throw LessonError([error.message]) }
            context.folder.recordFigure(path)
            written.append(path)
        }
        if kinds.contains(.filmstrip), filmstrip.count >= 2 {
            let panels = evenlyChosen(filmstrip, count: 12).map { frame -> any Chart in
                var chart = frame.chart
                chart.title = momentTitle(frame.label)
                return chart
            }
            written.append(try write(SmallMultiplesChart(title: "Real (blue) and generated (orange) points during training", panels: panels),
                                     name: "filmstrip"))
        }
        if kinds.contains(.losses), !rows.isEmpty {
            written.append(try write(lossChart(rows), name: "losses"))
        }
        if kinds.contains(.divergence), let floor = divergenceFloor, let last = divergences.last {
            written.append(try write(divergenceChart(floor: floor), name: "divergence"))
            console.line("  divergences on a \(context.settings.integer("divergence-bins"))² grid, 2,000 real vs 2,000 generated points:")
            console.line("    JS \(fixed(last.value.js, 3)) bits (two real samples: \(fixed(floor.js, 3)))"
                + " · KL(real‖fake) \(fixed(last.value.kl, 3)) bits (two real samples: \(fixed(floor.kl, 3)))")
            metrics["js_bits"] = last.value.js
            metrics["kl_bits"] = last.value.kl
            metrics["js_floor_bits"] = floor.js
            metrics["kl_floor_bits"] = floor.kl
        }
        if kinds.contains(.features), featureSequence.count >= 2 {
            written.append(try write(featureSequenceChart(), name: "features-sequence"))
            for (network, name, verb) in [(UpdatedNetwork.generator, "generator", "closer together"),
                                          (.discriminator, "discriminator", "closer together")] {
                guard let moves = centroidMoves[network], moves.observed > 0 else { continue }
                let fraction = Double(moves.closer) / Double(moves.observed)
                console.line("  \(name) updates that moved the centroids \(verb): \(grouped(moves.closer)) of "
                    + "\(grouped(moves.observed)) (\(fixed(100 * fraction, 1)) %)")
                metrics["\(name)_updates_closer_fraction"] = fraction
            }
        }
        metrics.merge(outcomeMetrics()) { $1 }
        let final = generateShown(finalNoise)
        finalSamples = final
        let other = context.settings.text("compare-with")
        if other != "none", let earlier = context.earlierSamples[other] {
            written.append(try write(comparisonChart(earlier: earlier, earlierName: other, final: final), name: "comparison"))
        } else if other != "none" {
            console.line("  (no comparison figure: stage \(other) has not run in this run; start the lesson before it)")
        }
        return (written, metrics)
    }

    private func comparisonChart(earlier: Tensor, earlierName: String, final: Tensor) -> SmallMultiplesChart {
        let real = firstRows(featureReal, 256)
        let panels = [(earlierName, earlier), (context.plan.id, final)].map { name, points -> any Chart in
            let curve = CurveFit(points: points, offset: 10)
            return samplesChart(title: "\(name): median |y − (10 + x²)| = \(fixed(curve.medianError, 0))", real: real,
                                fake: points, axes: xAxes, yAxes: yAxes)
        }
        return SmallMultiplesChart(title: "The same networks and the same number of updates, raw and standardised data", panels: panels,
                                   columns: 2)
    }

    func write(_ chart: some Chart, name: String) throws -> String {
        try context.write(chart, name: name)
    }

    /// How far the generated points are from the lesson's goal, in the data's own terms.
    private func outcomeMetrics() -> [String: Double] {
        let console = context.console
        let fake = generateShown(trainer.sampleNoise(count: 2000, using: &random))
        switch distribution {
        case .unitDisk:
            let coverage = DiskCoverage(points: fake)
            let cells = DiskCoverage.rings * DiskCoverage.sectors
            console.line("  of 2,000 generated points, \(fixed(100 * coverage.insideFraction, 1)) % lie inside the unit disk; of the "
                + "\(cells) cells of an equal-area polar grid (\(DiskCoverage.rings) rings × \(DiskCoverage.sectors) sectors), "
                + "\(coverage.occupiedCells) hold generated points and \(coverage.coveredCells) hold at least a quarter of their fair share")
            return ["inside_fraction": coverage.insideFraction, "occupied_cells": Double(coverage.occupiedCells),
                    "covered_cells": Double(coverage.coveredCells)]
        case .quadratic(let halfWidth, let offset):
            let curve = CurveFit(points: fake, offset: offset, halfWidth: halfWidth)
            console.line("  generated points: median |y − (10 + x²)| = \(fixed(curve.medianError, 1)) "
                + "(the data's y spans \(fixed(curve.dataRange, 0))); x < 0: \(fixed(100 * curve.leftFraction, 1)) %, "
                + "x > 0: \(fixed(100 * curve.rightFraction, 1)) %")
            return ["median_curve_error": curve.medianError, "left_fraction": curve.leftFraction, "right_fraction": curve.rightFraction]
        case .gaussian, .points:
            return [:]
        }
    }
}

extension ToyViews {
    /// A snapshot's name for a panel: "epoch 40", or with the tutorial's phased loop, where a step is
    /// an iteration, "iteration 400".
    func momentTitle(_ label: String) -> String {
        let parts = label.split(separator: "-")
        guard case .phases = trainer.configuration.schedule, parts.count == 2, parts[0] == "epoch", let epoch = Int(parts[1]) else {
            return panelTitle(label)
        }
        let stepsPerEpoch = context.settings.integer("steps-per-epoch")
        return "iteration \(grouped(epoch * (context.quick ? min(stepsPerEpoch, 4) : stepsPerEpoch)))"  // as the train stage counts
    }
}

/// A snapshot's file label as a learner reads it: "epoch-0040" → "epoch 40", "step-00005-g" →
/// "step 5 · G update".
func panelTitle(_ label: String) -> String {
    let parts = label.split(separator: "-")
    guard parts.count >= 2, let number = Int(parts[1]) else { return label }
    let networks: [Substring: Networks] = ["d": .discriminator, "g": .generator, "both": .both]
    if parts.count == 3, let updated = networks[parts[2]] { return "\(parts[0]) \(number) · \(updated.words)" }
    return parts.count == 2 ? "\(parts[0]) \(number)" : label
}

/// Up to `count` items, evenly spaced, always keeping the first and the last.
func evenlyChosen<T>(_ items: [T], count: Int) -> [T] {
    guard items.count > count, count >= 2 else { return items }
    return (0..<count).map { items[Int((Double($0) * Double(items.count - 1) / Double(count - 1)).rounded())] }
}

func centroidLine(_ network: String, _ before: FeatureSnapshot, _ after: FeatureSnapshot) -> String {
    func point(_ value: (x: Double, y: Double)?) -> String { value.map { "(\(fixed($0.x, 3)), \(fixed($0.y, 3)))" } ?? "none" }
    func distance(_ value: Double?) -> String { value.map { fixed($0, 3) } ?? "none" }
    return "one \(network) update: real centroid \(point(before.realCentroid)) → \(point(after.realCentroid)) · "
        + "fake centroid \(point(before.fakeCentroid)) → \(point(after.fakeCentroid)) · "
        + "distance \(distance(centroidDistance(before))) → \(distance(centroidDistance(after)))"
}
