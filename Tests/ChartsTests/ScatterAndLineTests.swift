import Foundation
import XCTest
@testable import Charts

final class ScatterAndLineTests: XCTestCase {
    /// A scatter with one fake point at the centre of fixed axes: red where the data says, not blank, text drawn.
    func testScatterPointLandsWhereTheDataSays() throws {
        let folder = try makeTemporaryFolder(self)
        let chart = ScatterChart(title: "One point", x: Axis("x", domain: -1...1), y: Axis("y", domain: -1...1),
                                 series: [ScatterSeries(name: "fake", xs: [0.5], ys: [-0.5], color: Theme.fake,
                                                        pointSize: 12, alpha: 1)])
        let image = try renderAndRead(chart, in: folder)
        XCTAssertEqual(image.width, 400)
        XCTAssertEqual(image.height, 300)
        let area = try XCTUnwrap(plotArea(of: chart, width: 400, height: 300))
        let (px, py) = area.point(0.5, -0.5)
        XCTAssertTrue(image.hasColor(Theme.fake, near: Int(px), Int(py), radius: 1, tolerance: 30))
        XCTAssertFalse(image.hasColor(Theme.fake, near: Int(area.pixelX(-0.5)), Int(area.pixelY(0.5)), radius: 3))
        // Title text at the top centre.
        XCTAssertGreaterThan(image.darkPixels(x: 150..<250, y: 0..<30), 20)
    }

    func testScaleTwoDoublesThePixels() throws {
        let folder = try makeTemporaryFolder(self)
        let chart = ScatterChart(title: "t", x: Axis("x"), y: Axis("y"), series: [])
        let path = folder + "/retina.png"
        try render(chart, to: path, options: RenderOptions(width: 300, height: 200, scale: 2))
        let image = try PixelImage(path: path)
        XCTAssertEqual(image.width, 600)
        XCTAssertEqual(image.height, 400)
    }

    func testLineSeriesDrawsAlongItsValues() throws {
        let folder = try makeTemporaryFolder(self)
        let xs = (0...10).map(Double.init)
        let chart = LineChart(title: "Flat line", x: Axis("step", domain: 0...10), y: Axis("loss", domain: 0...2),
                              series: [LineSeries(name: "loss", xs: xs, ys: xs.map { _ in 1 }, color: Theme.real)])
        let image = try renderAndRead(chart, in: folder)
        let area = try XCTUnwrap(plotArea(of: chart, width: 400, height: 300))
        XCTAssertTrue(image.hasColor(Theme.real, near: Int(area.pixelX(5)), Int(area.pixelY(1)), radius: 1))
        XCTAssertFalse(image.hasColor(Theme.real, near: Int(area.pixelX(5)), Int(area.pixelY(1.5)), radius: 2))
    }

    func testSecondaryAxisPlacesItsSeriesOnItsOwnScale() throws {
        let folder = try makeTemporaryFolder(self)
        let xs = [0.0, 10]
        let chart = LineChart(title: "Two units", x: Axis("step", domain: 0...10), y: Axis("loss", domain: 0...4),
                              secondaryY: Axis("accuracy", domain: 0...1),
                              series: [LineSeries(name: "accuracy", xs: xs, ys: [0.75, 0.75], color: Theme.fake,
                                                  onSecondaryAxis: true)])
        let image = try renderAndRead(chart, in: folder)
        let area = try XCTUnwrap(plotArea(of: chart, width: 400, height: 300))
        XCTAssertTrue(image.hasColor(Theme.fake, near: Int(area.pixelX(5)), Int(area.pixelY(0.75, secondary: true)), radius: 1))
    }

    func testNonFiniteValuesAreSkippedAndNoted() throws {
        let folder = try makeTemporaryFolder(self)
        let chart = ScatterChart(title: "Bad values", x: Axis("x"), y: Axis("y"),
                                 series: [ScatterSeries(name: "fake", xs: [0, 1, .nan, .infinity, 2],
                                                        ys: [0, 1, 2, 3, -.infinity], color: Theme.fake,
                                                        pointSize: 10, alpha: 1)])
        var counter = SkipCounter()
        chart.series[0].count(skipped: &counter, x: chart.x, y: chart.y)
        XCTAssertEqual(counter.nonFinite, 3)
        XCTAssertEqual(counter.notes, ["3 NaN/∞ values skipped"])
        let image = try renderAndRead(chart, in: folder)
        if let keep = ProcessInfo.processInfo.environment["CHARTS_GALLERY_DIR"] {
            try? render(chart, to: keep + "/test-nan.png", options: RenderOptions(width: 400, height: 300))
        }
        // Axes stay those of the finite points (about 0…1), not collapsed or infinite.
        let area = try XCTUnwrap(plotArea(of: chart, width: 400, height: 300))
        XCTAssertEqual(area.x.lower, -0.2, accuracy: 1e-9)
        XCTAssertEqual(area.x.upper, 1.2, accuracy: 1e-9)
        XCTAssertTrue(image.hasColor(Theme.fake, near: Int(area.pixelX(1)), Int(area.pixelY(1)), radius: 1))
        // The note is drawn at the bottom right.
        XCTAssertGreaterThan(image.darkPixels(x: 250..<395, y: 280..<300), 10)
    }

    func testEmptySeriesDrawsALabelledChart() throws {
        let folder = try makeTemporaryFolder(self)
        let chart = LineChart(title: "Nothing yet", x: Axis("step"), y: Axis("loss"),
                              series: [LineSeries(name: "loss", xs: [], ys: [], color: Theme.real)])
        let image = try renderAndRead(chart, in: folder)
        XCTAssertGreaterThan(image.darkPixels(x: 100..<300, y: 0..<30), 20)
        XCTAssertGreaterThan(image.nonWhitePixels, 500)
    }
}

/// The first plot area a chart lays out at the given size.
func plotArea(of chart: some Chart, width: Int, height: Int) -> PlotArea? {
    layoutAreas(of: chart, options: RenderOptions(width: width, height: height)).first
}
