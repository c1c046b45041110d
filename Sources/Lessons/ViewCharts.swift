import Charts
import Data
import Foundation
import GAN
import Kernels

/// The first `count` rows of a [n, d] tensor.
func firstRows(_ tensor: Tensor, _ count: Int) -> Tensor {
    let rows = min(count, tensor.shape[0]), width = tensor.shape[1]
    return Tensor(shape: [rows, width], scalars: Array(tensor.scalars[0..<(rows * width)]))
}

extension ToyViews {
    /// GAN Lab's layered view: D(x) over the plane (white where D says 0.5), real and fake points,
    /// and at each of 40 fakes the direction of ∇ₓ log D(x), where the generator's loss falls.
    func surfaceChart(title: String, real: Tensor, fakeNoise: Tensor) -> HeatmapChart {
        let yRange = yAxes ?? xAxes
        let cells = 60
        var centres = Tensor(uninitializedShape: [cells * cells, 2])
        centres.withUnsafeMutableBufferPointer { buffer in
            for row in 0..<cells {
                for column in 0..<cells {
                    let index = row * cells + column
                    buffer[2 * index] = Float(xAxes.lowerBound + (Double(column) + 0.5) / Double(cells) * (xAxes.upperBound - xAxes.lowerBound))
                    buffer[2 * index + 1] = Float(yRange.lowerBound + (Double(row) + 0.5) / Double(cells) * (yRange.upperBound - yRange.lowerBound))
                }
            }
        }
        let scores = trainer.discriminate(modelSpace(centres)).scalars.map(Double.init)
        let realPoints = coordinates(firstRows(real, 300))
        let fakePoints = coordinates(generateShown(firstRows(fakeNoise, 300)))

        let arrowNoise = firstRows(fakeNoise, 40)
        var push = trainer.discriminatorPush(at: trainer.generate(from: arrowNoise))
        if let scaler { push = push / Tensor(shape: [1, 2], scalars: scaler.stds) }  // per data unit
        let arrowStarts = coordinates(generateShown(arrowNoise)), arrowVectors = coordinates(push)
        let longest = zip(arrowVectors.xs, arrowVectors.ys).map { ($0 * $0 + $1 * $1).squareRoot() }.filter(\.isFinite).max() ?? 0
        // The longest arrow spans a fifteenth of the plot; the note on the chart gives the factor.
        let scale = longest > 0 ? roundedScale((xAxes.upperBound - xAxes.lowerBound) / 15 / longest) : 1
        return HeatmapChart(
            title: title, x: Axis("x₁", domain: xAxes), y: Axis("x₂", domain: yRange), values: scores, rows: cells, columns: cells,
            gridX: xAxes, gridY: yRange, colorBarLabel: "D(x)",
            points: [ScatterSeries(name: "real", xs: realPoints.xs, ys: realPoints.ys, color: Theme.real, pointSize: 3, alpha: 0.6),
                     ScatterSeries(name: "generated", xs: fakePoints.xs, ys: fakePoints.ys, color: Theme.fake, pointSize: 3, alpha: 0.7)],
            arrows: [ArrowSeries(name: "push on fakes", xs: arrowStarts.xs, ys: arrowStarts.ys, dxs: arrowVectors.xs,
                                 dys: arrowVectors.ys, color: Color(hex: 0x222222), scale: scale)],
            equalAspect: yAxes == nil, smooth: true)
    }

    /// The generator's manifold: a 21 × 21 grid of the 2-D noise square pushed through G.
    func manifoldChart(title: String, real: Tensor) -> WarpedGridChart {
        let side = 21
        let extent: Float = trainer.configuration.noise == .normal ? 2 : 1
        var grid = Tensor(uninitializedShape: [side * side, 2])
        grid.withUnsafeMutableBufferPointer { buffer in
            for row in 0..<side {
                for column in 0..<side {
                    buffer[2 * (row * side + column)] = -extent + 2 * extent * Float(column) / Float(side - 1)
                    buffer[2 * (row * side + column) + 1] = -extent + 2 * extent * Float(row) / Float(side - 1)
                }
            }
        }
        let vertices = coordinates(generateShown(grid))
        let realPoints = coordinates(firstRows(real, 300))
        return WarpedGridChart(
            title: title, x: Axis("x₁", domain: xAxes),
            y: Axis("x₂", domain: yAxes ?? xAxes), vertexXs: vertices.xs, vertexYs: vertices.ys, rows: side, columns: side,
            points: [ScatterSeries(name: "real", xs: realPoints.xs, ys: realPoints.ys, color: Theme.real, pointSize: 3, alpha: 0.4)],
            equalAspect: yAxes == nil)
    }

    func divergenceChart(floor: GridDivergence) -> LineChart {
        let steps = divergences.map { Double($0.step) }
        let span = [steps.first ?? 0, steps.last ?? 1]
        return LineChart(
            title: "How far apart the real and generated distributions are (grid estimate, base-2 logs)",
            x: Axis("training step", domain: 0...max(steps.last ?? 1, 1)), y: Axis("JS divergence (bits)", domain: 0...1),
            secondaryY: Axis("KL(real ‖ generated) (bits)"),
            series: [
                LineSeries(name: "JS", xs: steps, ys: divergences.map { $0.value.js }, color: Theme.real),
                LineSeries(name: "JS of two real samples", xs: span, ys: [floor.js, floor.js], color: Theme.real, dashed: true),
                LineSeries(name: "KL", xs: steps, ys: divergences.map { $0.value.kl }, color: Theme.fake, onSecondaryAxis: true),
                LineSeries(name: "KL of two real samples", xs: span, ys: [floor.kl, floor.kl], color: Theme.fake, dashed: true,
                           onSecondaryAxis: true),
            ])
    }

    /// Losses as the tutorial records them: every `loss-every` steps.
    func lossChart(_ rows: [MetricsRow]) -> LineChart {
        let every = context.settings.integer("loss-every")
        let kept = rows.filter { $0.step % every == 0 || $0.step == 1 }
        let xs = kept.map { Double($0.step) }
        return LineChart(
            title: "Losses, recorded every \(every) iterations", x: Axis("iteration"), y: Axis("loss (sigmoid cross-entropy)"),
            series: [
                LineSeries(name: "D loss", xs: xs, ys: kept.map { Double($0.discriminatorLoss) }, color: Theme.real,
                           smoothing: kept.count >= 100 ? kept.count / 50 : 0),
                LineSeries(name: "G loss", xs: xs, ys: kept.map { Double($0.generatorLoss) }, color: Theme.fake,
                           smoothing: kept.count >= 100 ? kept.count / 50 : 0),
            ])
    }

    /// D's feature space at each snapshot, with the two centroids, on shared axes.
    func featureSequenceChart() -> SmallMultiplesChart {
        let panels = evenlyChosen(featureSequence, count: 6).map { moment -> any Chart in
            featureScatter(moment.snapshot, title: moment.label, x: Axis("feature 1"), y: Axis("feature 2"))
        }
        return SmallMultiplesChart(title: "What the discriminator sees: its 2-D feature layer during training", panels: panels,
                                   shareAxes: false)
    }
}

/// A scale factor rounded to 1, 2 or 5 times a power of ten, so the chart's note reads simply.
func roundedScale(_ value: Double) -> Double {
    guard value.isFinite, value > 0 else { return 1 }
    let power = pow(10, floor(log10(value)))
    let mantissa = value / power
    return (mantissa < 1.5 ? 1 : mantissa < 3.5 ? 2 : mantissa < 7.5 ? 5 : 10) * power
}
