import Foundation
import XCTest
@testable import Charts

/// Every chart kind with empty input and with non-finite input: no crash, a labelled figure.
final class BadInputTests: XCTestCase {
    private let bad: [Double] = [.nan, .infinity, -.infinity]

    private func emptyAndBadCharts() -> [(String, any Chart)] {
        let emptyScatter = ScatterSeries(name: "fake", xs: [], ys: [], color: Theme.fake)
        let badScatter = ScatterSeries(name: "fake", xs: bad, ys: bad, color: Theme.fake)
        return [
            ("scatter-empty", ScatterChart(title: "Scatter", x: Axis("x"), y: Axis("y"), series: [emptyScatter])),
            ("scatter-bad", ScatterChart(title: "Scatter", x: Axis("x"), y: Axis("y", logScale: true), series: [badScatter])),
            ("lines-bad", LineChart(title: "Lines", x: Axis("step"), y: Axis("loss", logScale: true), secondaryY: Axis("acc"),
                                    series: [LineSeries(name: "loss", xs: [0, 1, 2], ys: bad, color: Theme.real, smoothing: 5),
                                             LineSeries(name: "acc", xs: [], ys: [], color: Theme.fake, onSecondaryAxis: true)],
                                    events: [EventMarker(x: .nan, label: "never")])),
            ("heatmap-empty", HeatmapChart(title: "Surface", x: Axis("x"), y: Axis("y"), values: [], rows: 0, columns: 0,
                                           gridX: 0...1, gridY: 0...1)),
            ("heatmap-bad", HeatmapChart(title: "Surface", x: Axis("x"), y: Axis("y"), values: [.nan, 1, .infinity, 0],
                                         rows: 2, columns: 2, gridX: 0...1, gridY: 0...1, points: [badScatter])),
            ("arrows-bad", VectorFieldChart(title: "Arrows", x: Axis("x"), y: Axis("y"),
                                            arrows: [ArrowSeries(name: "g", xs: bad, ys: [0, 0, 0], dxs: [1, 1, 1], dys: bad,
                                                                 color: Theme.text)])),
            ("warped-empty", WarpedGridChart(title: "Grid", x: Axis("x"), y: Axis("y"), vertexXs: [], vertexYs: [],
                                             rows: 0, columns: 0)),
            ("warped-bad", WarpedGridChart(title: "Grid", x: Axis("x"), y: Axis("y"), vertexXs: [0, 1, .nan, 1],
                                           vertexYs: [0, 0, 1, 1], rows: 2, columns: 2)),
            ("features-empty", FeatureSpaceChart(title: "Features", x: Axis("f1"), y: Axis("f2"),
                                                 before: FeatureSnapshot(realXs: [], realYs: [], fakeXs: [], fakeYs: []),
                                                 after: FeatureSnapshot(realXs: bad, realYs: bad, fakeXs: [], fakeYs: []))),
            ("images-empty", ImageGridChart(title: "Images", images: [], columns: 4)),
            ("images-wrong-size", ImageGridChart(title: "Images", images: [GridImage(pixels: [0], width: 28, height: 28)],
                                                 columns: 0)),
            ("histogram-bad", HistogramChart(title: "Histogram", x: Axis("x"), series: [HistogramSeries(name: "f", values: bad,
                                                                                                         color: Theme.fake)])),
            ("bars-empty", BarChart(title: "Bars", categories: [], y: Axis("count"), series: [], idealValue: .nan)),
            ("multiples-empty", SmallMultiplesChart(title: "Training", panels: [])),
        ]
    }

    func testEveryKindDrawsALabelledFigureFromEmptyOrNonFiniteInput() throws {
        // CHARTS_GALLERY_DIR keeps these figures too, for looking at them.
        let kept = ProcessInfo.processInfo.environment["CHARTS_GALLERY_DIR"].map { $0 + "/bad-input" }
        if let kept { try FileManager.default.createDirectory(atPath: kept, withIntermediateDirectories: true) }
        let folder = try kept ?? makeTemporaryFolder(self)
        for (name, chart) in emptyAndBadCharts() {
            let image = try renderAndRead(chart, in: folder, name: name + ".png")
            XCTAssertEqual(image.width, 400, name)
            // The title is drawn at the top centre.
            XCTAssertGreaterThan(image.darkPixels(x: 100..<300, y: 0..<30), 15, name)
        }
    }

    func testNonFiniteValuesAreCountedInANote() throws {
        let folder = try makeTemporaryFolder(self)
        for (name, chart) in emptyAndBadCharts() where name.hasSuffix("-bad") {
            let image = try renderAndRead(chart, in: folder, name: name + ".png")
            XCTAssertGreaterThan(image.darkPixels(x: 250..<398, y: 280..<300), 10, "\(name): note at the bottom right")
        }
    }
}
