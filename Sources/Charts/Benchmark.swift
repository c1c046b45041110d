import CCairo
import Foundation

/// One measured rendering task: the best and the median time over the repetitions.
public struct ChartTiming: Sendable, CustomStringConvertible {
    /// Name shown in the legend (empty: no legend entry).
    public var name: String
    /// Fastest repetition.
    public var bestMilliseconds: Double
    /// Median repetition.
    public var medianMilliseconds: Double

    /// One line: name, best and median time.
    public var description: String {
        String(format: "%@: best %.1f ms, median %.1f ms", name, bestMilliseconds, medianMilliseconds)
    }
}

/// Times drawing (into memory) and drawing plus PNG encoding of a 1600×1200 scatter of 2,000 points
/// and of a 30×30 heatmap. Build in release mode for meaningful numbers.
public func benchmarkCharts(repetitions: Int = 10) -> [ChartTiming] {
    var random = GalleryRandom(seed: 1)
    let xs = (0..<2000).map { _ in random.normal() }, ys = (0..<2000).map { _ in random.normal() }
    let scatter = ScatterChart(title: "2,000 points", x: Axis("x"), y: Axis("y"),
                               series: [ScatterSeries(name: "real", xs: Array(xs[..<1000]), ys: Array(ys[..<1000]), color: Theme.real),
                                        ScatterSeries(name: "fake", xs: Array(xs[1000...]), ys: Array(ys[1000...]), color: Theme.fake)])
    let values = (0..<900).map { index in 1 / (1 + exp(-Double(index % 30 - 15) / 4)) }
    let heatmap = HeatmapChart(title: "30 × 30 surface", x: Axis("x"), y: Axis("y"), values: values, rows: 30, columns: 30,
                               gridX: -2...2, gridY: -2...2,
                               points: [ScatterSeries(name: "fake", xs: Array(xs[..<200]), ys: Array(ys[..<200]), color: Theme.fake)])
    let options = RenderOptions(width: 1600, height: 1200)
    let folder = NSTemporaryDirectory()
    let path = folder + "/gan-lab-benchmark-\(getpid()).png"
    defer { unlink(path) }
    func time(_ name: String, _ work: () -> Void) -> ChartTiming {
        work()
        var samples: [Double] = []
        for _ in 0..<max(repetitions, 1) {
            let start = DispatchTime.now().uptimeNanoseconds
            work()
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        samples.sort()
        return ChartTiming(name: name, bestMilliseconds: samples[0], medianMilliseconds: samples[samples.count / 2])
    }
    return [
        time("scatter 2,000 points, draw") { cairo_surface_destroy(renderImage(scatter, options: options)) },
        time("scatter 2,000 points, draw + PNG file") { try? render(scatter, to: path, options: options) },
        time("heatmap 30×30, draw") { cairo_surface_destroy(renderImage(heatmap, options: options)) },
        time("heatmap 30×30, draw + PNG file") { try? render(heatmap, to: path, options: options) },
    ]
}
