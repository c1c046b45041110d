import Charts
import Data
import Foundation
import GAN
import Kernels

/// What a stage gets to work with.
struct StageContext {
    let plan: StagePlan
    let folder: OutputFolder
    let console: Console
    let quick: Bool
    let format: ImageFormat
    var random: RandomSource
    /// The final generated points of the training stages that have run before this one, by stage id.
    var earlierSamples: [String: Tensor] = [:]
    /// The run's thread count (`--threads`): stages of independent runs run that many at once.
    var threads = 1
    /// The lesson run this stage belongs to, named in the training checkpoints it writes (nil: it writes none).
    var owner: RunOwner?
    /// The checkpoint this stage continues from (`--resume`).
    var resume: TrainingCheckpoint?

    var settings: StageSettings { plan.settings }

    /// Renders a chart into the stage's folder and records it.
    func write(_ chart: some Chart, name: String) throws -> String {
        let path = try folder.path(stage: plan.number, name: "\(name).\(format.rawValue)")
        do {
            try render(chart, to: path, options: RenderOptions(format: format))
        } catch let error as ChartError {
            throw LessonError([error.message])
        }
        folder.recordFigure(path)
        return path
    }

    /// The toy distribution the stage's settings describe (`data: points` reads `data-file`).
    func distribution() throws -> ToyDistribution {
        try settings.toyDistribution()
    }

    var dataDescription: String {
        switch settings.text("data") {
        case "disk": return "points uniform in the unit disk"
        case "quadratic": return "x uniform in [-50, 50], y = 10 + x²"
        case "points": return "the points of \(settings.text("data-file")), drawn at random with replacement"
        default:
            return "N((\(settings.text("data-mean-x")), \(settings.text("data-mean-y"))), \(settings.text("data-std"))²·I)"
        }
    }

    /// The ranges the stage draws: `axes` (and `axes-y`) as set; for a user's points with no
    /// `axes` set, fitted to the points with a margin (one square range when that wastes little).
    func plotAxes() throws -> (x: ClosedRange<Double>, y: ClosedRange<Double>?) {
        guard settings.text("data") == "points", settings.values["axes"] == nil else {
            return (settings.interval("axes"), separateYAxes(settings))
        }
        guard case .points(let values) = try distribution() else { return (settings.interval("axes"), separateYAxes(settings)) }
        return fittedAxes(values, y: separateYAxes(settings))
    }
}

/// Ranges around points (flattened x, y pairs) with a 10 % margin, rounded outward: one square
/// range for both axes when it is at most twice as wide as the wider of the two, else one each.
func fittedAxes(_ values: [Float], y fixedY: ClosedRange<Double>?) -> (x: ClosedRange<Double>, y: ClosedRange<Double>?) {
    func range(_ coordinates: [Float]) -> ClosedRange<Double> {
        let low = Double(coordinates.min() ?? 0), high = Double(coordinates.max() ?? 0)
        let span = max(high - low, 1e-6 * max(abs(low), 1)), margin = 0.1 * span
        let step = pow(10, (log10(span + 2 * margin)).rounded(.down)) / 2
        return ((low - margin) / step).rounded(.down) * step...((high + margin) / step).rounded(.up) * step
    }
    let xs = Swift.stride(from: 0, to: values.count, by: 2).map { values[$0] }
    let ys = Swift.stride(from: 1, to: values.count, by: 2).map { values[$0] }
    let x = range(xs), y = fixedY ?? range(ys)
    if fixedY == nil {
        let union = min(x.lowerBound, y.lowerBound)...max(x.upperBound, y.upperBound)
        let wider = max(x.upperBound - x.lowerBound, y.upperBound - y.lowerBound)
        if union.upperBound - union.lowerBound <= 2 * wider { return (union, nil) }
    }
    return (x, y)
}

extension StageSettings {
    /// The toy distribution these settings describe; a user's points file is read (and checked) here.
    func toyDistribution() throws -> ToyDistribution {
        switch text("data") {
        case "disk": return .unitDisk
        case "quadratic": return .quadratic(halfWidth: 50, offset: 10)
        case "points":
            let path = text("data-file")
            guard path != "none" else { throw LessonError(["data: points needs data-file: a CSV of points, one x,y a row"]) }
            do {
                return .empirical(try loadPoints(path))
            } catch let error as DataError {
                throw LessonError([error.message])
            }
        default: return .gaussian(meanX: number("data-mean-x"), meanY: number("data-mean-y"), std: number("data-std"))
        }
    }
}

extension StagePlan {
    /// The kernels this stage's matrix products run on (`products`).
    var productKernels: ProductKernels { ProductKernels(rawValue: settings.text("products")) ?? .portable }

    /// Runs the stage on its product kernels.
    func run(_ context: StageContext) throws -> StageOutcome {
        guard let stageKind = stageKind(named: kind) else { throw LessonError(["stage \(number) has unknown kind \(kind)"]) }
        setProductKernels(productKernels)
        return try stageKind.run(context)
    }
}

/// What a stage leaves behind.
struct StageOutcome {
    var figures: [String] = []
    var metrics: [String: Double] = [:]
    var rows: [MetricsRow] = []
    /// A training stage's final generated points, for later stages to compare with (`compare-with`).
    var finalSamples: Tensor?
    /// The training checkpoint a stopped stage wrote, to continue from with `--resume`.
    var checkpoint: String?
}

/// Thrown when Ctrl-C stopped a stage; carries what the stage had done.
struct TrainingInterrupted: Error {
    let outcome: StageOutcome
}

/// Thrown when the class chose to quit inside a stage (q in step mode); carries what it had done.
struct StageStopped: Error {
    let outcome: StageOutcome
}

/// Columns of a [n, 2] tensor as Doubles, for charts.
func coordinates(_ points: Tensor) -> (xs: [Double], ys: [Double]) {
    let scalars = points.scalars
    let n = points.shape[0]
    return ((0..<n).map { Double(scalars[2 * $0]) }, (0..<n).map { Double(scalars[2 * $0 + 1]) })
}

/// The scatter of real (and optionally fake) points every toy lesson draws, on fixed axes.
/// With `yAxes` (a curve much taller than wide) the axes differ and the aspect is free.
func samplesChart(title: String, real: Tensor, fake: Tensor?, axes: ClosedRange<Double>, yAxes: ClosedRange<Double>? = nil) -> ScatterChart {
    let realPoints = coordinates(real)
    var series = [ScatterSeries(name: "real", xs: realPoints.xs, ys: realPoints.ys, color: Theme.real, alpha: 0.5)]
    if let fake {
        let fakePoints = coordinates(fake)
        series.append(ScatterSeries(name: "generated", xs: fakePoints.xs, ys: fakePoints.ys, color: Theme.fake, alpha: 0.6))
    }
    return ScatterChart(title: title, x: Axis("x₁", domain: axes), y: Axis("x₂", domain: yAxes ?? axes), series: series,
                        equalAspect: yAxes == nil)
}

/// A scatter of the real data and its statistics.
enum DataStage: StageKind {
    static let name = "data"
    static let settings = dataSettings + imageDataSettings

    static func crossCheck(_ settings: StageSettings) -> [String] {
        checkSeparateYAxes(settings) + checkPointsFile(settings)
            + (settings.text("data") == "images" && settings.text("data-file") == "none"
                ? ["data: images needs data-file: an IDX file, a CSV of pixel rows, or a folder of PNGs"] : [])
    }

    static func run(_ context: StageContext) throws -> StageOutcome {
        if imageDataNames.contains(context.settings.text("data")) { return try ImageDataView.run(context) }
        var random = context.random
        let count = context.settings.integer("points")
        let points = try context.distribution().sample(count: count, using: &random)
        let stats = columnStatistics(points)
        context.console.line("  \(grouped(count)) points from \(context.dataDescription)")
        context.console.line("  mean (\(fixed(stats.means[0])), \(fixed(stats.means[1])))   std (\(fixed(stats.stds[0])), \(fixed(stats.stds[1])))")
        let axes = try context.plotAxes()
        let chart = samplesChart(title: "The real data: \(grouped(count)) samples", real: points, fake: nil, axes: axes.x, yAxes: axes.y)
        let figure = try context.write(chart, name: "data")
        return StageOutcome(figures: [figure], metrics: ["real_mean_x": stats.means[0], "real_mean_y": stats.means[1],
                                                         "real_std_x": stats.stds[0], "real_std_y": stats.stds[1]])
    }
}
