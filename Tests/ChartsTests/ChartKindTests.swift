import CCairo
import Foundation
import XCTest
@testable import Charts

/// One small figure per chart kind: size, not blank, colours where the data says, text drawn.
final class ChartKindTests: XCTestCase {
    func testHeatmapColoursCellsAndDrawsColourBar() throws {
        let folder = try makeTemporaryFolder(self)
        let chart = HeatmapChart(title: "Surface", x: Axis("x", domain: 0...2), y: Axis("y", domain: 0...2),
                                 values: [0, 1, 0, 1], rows: 2, columns: 2, gridX: 0...2, gridY: 0...2)
        let image = try renderAndRead(chart, in: folder)
        XCTAssertEqual(image.width, 400)
        let area = try XCTUnwrap(plotArea(of: chart, width: 400, height: 300))
        let fakeEnd = ColorMap.realFake.color(at: 0), realEnd = ColorMap.realFake.color(at: 1)
        XCTAssertTrue(image.hasColor(fakeEnd, near: Int(area.pixelX(0.3)), Int(area.pixelY(1.5)), radius: 0, tolerance: 12))
        XCTAssertTrue(image.hasColor(realEnd, near: Int(area.pixelX(1.7)), Int(area.pixelY(0.5)), radius: 0, tolerance: 12))
        // The 0.5 contour runs down the middle, dark.
        let (r, g, b) = image.rgb(Int(area.pixelX(1)), Int(area.pixelY(1)))
        XCTAssertLessThan(r + g + b, 300)
        // The colour bar, right of the plot, shows both ends of the map.
        let right = Int(area.rectangle.maxX) + 2
        XCTAssertGreaterThan(image.count(realEnd, tolerance: 12, in: (right..<400, 0..<300)), 10)
        XCTAssertGreaterThan(image.count(fakeEnd, tolerance: 12, in: (right..<400, 0..<300)), 10)
        XCTAssertGreaterThan(image.darkPixels(x: 120..<280, y: 0..<25), 20)
    }

    func testContourTracerFindsTheCrossing() {
        let segments = ContourTracer.segments(values: [0, 1, 0, 1], rows: 2, columns: 2, level: 0.5)
        XCTAssertEqual(segments.count, 1)
        XCTAssertEqual(segments[0].0.column, 0.5, accuracy: 1e-12)
        XCTAssertEqual(segments[0].1.column, 0.5, accuracy: 1e-12)
        XCTAssertTrue(ContourTracer.segments(values: [0, 0, 0, 0], rows: 2, columns: 2, level: 0.5).isEmpty)
    }

    func testArrowsPointAlongTheirVectorsAndStateTheScale() throws {
        let folder = try makeTemporaryFolder(self)
        let chart = VectorFieldChart(title: "Gradient", x: Axis("x", domain: -1...3), y: Axis("y", domain: -2...2),
                                     arrows: [ArrowSeries(name: "gradient", xs: [0], ys: [0], dxs: [1], dys: [0],
                                                          color: Theme.fake, scale: 2)], equalAspect: false)
        let image = try renderAndRead(chart, in: folder)
        let area = try XCTUnwrap(plotArea(of: chart, width: 400, height: 300))
        XCTAssertTrue(image.hasColor(Theme.fake, near: Int(area.pixelX(1)), Int(area.pixelY(0)), radius: 1, tolerance: 90))
        XCTAssertFalse(image.hasColor(Theme.fake, near: Int(area.pixelX(1)), Int(area.pixelY(1)), radius: 3))
        XCTAssertEqual(chart.arrows[0].scaleNote, "gradient drawn × 2")
        XCTAssertGreaterThan(image.darkPixels(x: 250..<398, y: 280..<300), 10)
    }

    func testWarpedGridShadesSmallCellsDarker() throws {
        // A 3 × 3 vertex grid whose left column of cells is squeezed to a quarter of the width.
        let xs: [Double] = [0, 0.25, 2, 0, 0.25, 2, 0, 0.25, 2], ys: [Double] = [0, 0, 0, 1, 1, 1, 2, 2, 2]
        let chart = WarpedGridChart(title: "Grid", x: Axis("x", domain: 0...2), y: Axis("y", domain: 0...2),
                                    vertexXs: xs, vertexYs: ys, rows: 3, columns: 3, equalAspect: false)
        let areas = chart.cellAreas().compactMap { $0 }
        XCTAssertEqual(areas, [0.25, 1.75, 0.25, 1.75])
        let folder = try makeTemporaryFolder(self)
        let image = try renderAndRead(chart, in: folder)
        let area = try XCTUnwrap(plotArea(of: chart, width: 400, height: 300))
        let dense = image.rgb(Int(area.pixelX(0.12)), Int(area.pixelY(0.5)))
        let sparse = image.rgb(Int(area.pixelX(1.2)), Int(area.pixelY(0.5)))
        XCTAssertLessThan(dense.1, sparse.1, "the dense cell should be more strongly tinted")
        XCTAssertLessThan(sparse.1, 250, "the sparse cell should still be tinted")
    }

    /// The caption gives every coordinate to a thousandth of its axis's span: float noise in a
    /// centroid that sits on an axis reads 0, and neighbours have as many decimals as each other.
    func testFeatureSpaceCaptionRoundsToWhatItsAxesShow() {
        func snapshot(real: (Double, Double), fake: (Double, Double)) -> FeatureSnapshot {
            FeatureSnapshot(realXs: [real.0, real.0], realYs: [real.1, real.1], fakeXs: [fake.0, fake.0], fakeYs: [fake.1, fake.1])
        }
        let chart = FeatureSpaceChart(title: "Features", x: Axis("logit", domain: -1.5...1.5), y: Axis("spread", domain: -4...2),
                                      before: snapshot(real: (0.345, 1.15e-7), fake: (-0.261, -0.0736)),
                                      after: snapshot(real: (0.192, -0.00366), fake: (-0.36, -0.0621)), boundaryX: 0)
        XCTAssertEqual(chart.caption, ["real centroid (0.345, 0) → (0.192, \u{2212}0.004)",
                                       "fake centroid (\u{2212}0.261, \u{2212}0.074) → (\u{2212}0.360, \u{2212}0.062)",
                                       "distance between the centroids 0.610 → 0.555"])
        // A tenfold wider axis gives a decimal less.
        var wide = chart
        wide.x = Axis("logit", domain: -15...15)
        XCTAssertEqual(wide.caption[2], "distance between the centroids 0.610 → 0.555")
        XCTAssertEqual(wide.caption[1], "fake centroid (\u{2212}0.26, \u{2212}0.074) → (\u{2212}0.36, \u{2212}0.062)")
    }

    func testFeatureSpaceMarksCentroidsInBothPanelsWithSharedAxes() throws {
        let before = FeatureSnapshot(realXs: [2, 4], realYs: [2, 2], fakeXs: [-2, 0], fakeYs: [0, 0])
        let after = FeatureSnapshot(realXs: [2, 4], realYs: [2, 2], fakeXs: [0, 2], fakeYs: [1, 1])
        let chart = FeatureSpaceChart(title: "Features", x: Axis("f1"), y: Axis("f2"), before: before, after: after)
        XCTAssertEqual(before.fakeCentroid?.x, -1)
        XCTAssertEqual(chart.caption[1], "distance between the centroids 4.472 → 2.236")
        let folder = try makeTemporaryFolder(self)
        let image = try renderAndRead(chart, in: folder, width: 800, height: 400)
        let areas = layoutAreas(of: chart, options: RenderOptions(width: 800, height: 400))
        XCTAssertEqual(areas.count, 2)
        XCTAssertEqual(areas[0].x.lower, areas[1].x.lower)
        XCTAssertEqual(areas[0].y.upper, areas[1].y.upper)
        for area in areas {
            XCTAssertTrue(image.hasColor(Theme.real, near: Int(area.pixelX(3)), Int(area.pixelY(2)), radius: 1, tolerance: 20))
        }
        XCTAssertTrue(image.hasColor(Theme.fake, near: Int(areas[1].pixelX(1)), Int(areas[1].pixelY(1)), radius: 1, tolerance: 20))
        XCTAssertGreaterThan(image.darkPixels(x: 100..<700, y: 380..<400), 20, "caption drawn")
    }

    func testImageGridPlacesImagesInCells() throws {
        let gray = GridImage(pixels: [Float](repeating: 0, count: 4), width: 2, height: 2)
        let black = GridImage(pixels: [Float](repeating: -1, count: 4), width: 2, height: 2)
        let colour = GridImage(pixels: [1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1, -1], width: 2, height: 2, channels: 3)
        let chart = ImageGridChart(title: "Digits", images: [gray, black, colour], columns: 3, columnLabels: ["a", "b", "c"])
        let folder = try makeTemporaryFolder(self)
        let image = try renderAndRead(chart, in: folder)
        let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1)!
        let context = cairo_create(surface)!
        let canvas = Canvas(context: context, unit: Canvas.unit(width: 400, height: 300))
        let cells = chart.cellRectangles(on: canvas, in: Rectangle(x: 0, y: 0, width: 400, height: 300)).cells
        cairo_destroy(context)
        cairo_surface_destroy(surface)
        XCTAssertEqual(image.rgb(Int(cells[0].midX), Int(cells[0].midY)).0, 128, accuracy: 1)
        XCTAssertEqual(image.rgb(Int(cells[1].midX), Int(cells[1].midY)).0, 0)
        XCTAssertTrue(image.hasColor(Color(red: 1, green: 0, blue: 0), near: Int(cells[2].midX), Int(cells[2].midY), radius: 0, tolerance: 3))
        XCTAssertGreaterThan(image.darkPixels(x: 150..<250, y: 0..<25), 20)
    }

    func testHistogramOverlaysSeriesOnSharedBins() throws {
        let chart = HistogramChart(title: "Marginal", x: Axis("x", domain: 0...4),
                                   series: [HistogramSeries(name: "fake", values: [0.5, 0.6, 0.7, .nan], color: Theme.fake)],
                                   bins: 4)
        XCTAssertEqual(chart.heights(of: chart.series[0], range: 0...4), [3, 0, 0, 0])
        let folder = try makeTemporaryFolder(self)
        let image = try renderAndRead(chart, in: folder)
        let area = try XCTUnwrap(plotArea(of: chart, width: 400, height: 300))
        let filled = Theme.fake.withAlpha(0.45)
        let blended = Color(red: 1 - 0.45 + 0.45 * filled.red, green: 1 - 0.45 + 0.45 * filled.green,
                            blue: 1 - 0.45 + 0.45 * filled.blue)
        XCTAssertTrue(image.hasColor(blended, near: Int(area.pixelX(0.6)), Int(area.pixelY(1.3)), radius: 0, tolerance: 15),
                      "off the grid lines, inside the bar")
        XCTAssertFalse(image.hasColor(blended, near: Int(area.pixelX(2.5)), Int(area.pixelY(1.5)), radius: 2, tolerance: 15))
        XCTAssertGreaterThan(image.darkPixels(x: 250..<398, y: 280..<300), 10, "NaN note drawn")
    }

    func testBarChartDrawsBarsAndDashedIdealLine() throws {
        let chart = BarChart(title: "Modes", categories: ["a", "b"], y: Axis("count", domain: 0...10),
                             series: [BarSeries(name: "count", values: [8, 0], color: Theme.fake)], idealValue: 4)
        let folder = try makeTemporaryFolder(self)
        let image = try renderAndRead(chart, in: folder)
        let area = try XCTUnwrap(plotArea(of: chart, width: 400, height: 300))
        XCTAssertTrue(image.hasColor(Theme.fake, near: Int(area.pixelX(0)), Int(area.pixelY(6)), radius: 0, tolerance: 5))
        XCTAssertFalse(image.hasColor(Theme.fake, near: Int(area.pixelX(1)), Int(area.pixelY(2)), radius: 2))
        let dashRow = Int(area.pixelY(4))
        let dark = (Int(area.pixelX(0.6))..<Int(area.pixelX(1.4))).filter { column in
            let (r, g, b) = image.rgb(column, dashRow)
            return r + g + b < 300
        }.count
        let span = Int(area.pixelX(1.4)) - Int(area.pixelX(0.6))
        XCTAssertGreaterThan(dark, span / 4, "the ideal line is drawn")
        XCTAssertLessThan(dark, span * 9 / 10, "and it is dashed")
    }

    /// Standard-error whiskers: drawn from value − e to value + e at the bar's centre, clamped to the axis.
    func testBarChartDrawsErrorWhiskers() throws {
        let chart = BarChart(title: "Modes", categories: ["a", "b"], y: Axis("count", domain: 0...10),
                             series: [BarSeries(name: "count", values: [5, 9], color: Theme.fake, errors: [2, 3])])
        let folder = try makeTemporaryFolder(self)
        let image = try renderAndRead(chart, in: folder)
        let area = try XCTUnwrap(plotArea(of: chart, width: 400, height: 300))
        let isDark = { (x: Double, y: Double) -> Bool in
            let (r, g, b) = image.rgb(Int(area.pixelX(x)), Int(area.pixelY(y)))
            return r + g + b < 300
        }
        XCTAssertTrue(isDark(0, 6.5), "the whisker above the bar's top, up to 7")
        XCTAssertFalse(isDark(0, 7.6), "nothing beyond value + error")
        XCTAssertFalse(isDark(0.25, 6.5), "only at the bar's centre")
        XCTAssertTrue(isDark(1, 9.9), "clamped to the axis (9 + 3 > 10), still drawn")
        XCTAssertTrue(image.hasColor(Theme.fake, near: Int(area.pixelX(0.2)), Int(area.pixelY(4)), radius: 0, tolerance: 5))
    }

    /// Bar panels in small multiples give one legend under the title instead of one each.
    func testBarPanelsShareOneLegend() throws {
        let panel = { (title: String) in
            BarChart(title: title, categories: ["0", "1"], y: Axis("count"),
                     series: [BarSeries(name: "generated", values: [3, 1], color: Theme.fake)], idealValue: 2, idealLabel: "ideal")
        }
        let shared = try XCTUnwrap(sharingLegend([panel("a"), panel("b")]))
        XCTAssertEqual(shared.entries.map(\.name), ["generated", "ideal"])
        XCTAssertTrue(shared.charts.allSatisfy { ($0 as? BarChart)?.showsLegend == false })
    }

    /// A colour bar's label longer than the bar shrinks to the bar's height instead of running
    /// above the plot (into the legend row).
    func testColorBarLabelStaysWithinTheBar() throws {
        let chart = HeatmapChart(title: "Surface", x: Axis("x", domain: 0...2), y: Axis("y", domain: 0...2),
                                 values: [0, 1, 0, 1], rows: 2, columns: 2, gridX: 0...2, gridY: 0...2,
                                 colorBarLabel: "a colour bar label far longer than the bar is tall")
        let folder = try makeTemporaryFolder(self)
        let image = try renderAndRead(chart, in: folder, width: 400, height: 160)
        let area = try XCTUnwrap(plotArea(of: chart, width: 400, height: 160))
        let right = Int(area.rectangle.maxX) + 2
        let above = image.darkPixels(x: right..<400, y: 0..<max(Int(area.rectangle.y) - 8, 1))  // the top tick label reaches a few pixels up
        let beside = image.darkPixels(x: right..<400, y: Int(area.rectangle.y)..<Int(area.rectangle.maxY))
        XCTAssertGreaterThan(beside, 50, "the label and ticks are drawn beside the plot")
        XCTAssertEqual(above, 0, "nothing of the label above the plot")
    }

    func testSmallMultiplesShareAxes() throws {
        let first = ScatterChart(title: "epoch 1", x: Axis("x"), y: Axis("y"),
                                 series: [ScatterSeries(name: "fake", xs: [0, 1], ys: [0, 1], color: Theme.fake)])
        let second = ScatterChart(title: "epoch 2", x: Axis("x"), y: Axis("y"),
                                  series: [ScatterSeries(name: "fake", xs: [5, 9], ys: [-3, 2], color: Theme.fake)])
        let chart = SmallMultiplesChart(title: "Training", panels: [first, second])
        let areas = layoutAreas(of: chart, options: RenderOptions(width: 800, height: 400))
        XCTAssertEqual(areas.count, 2)
        XCTAssertEqual(areas[0].x.lower, areas[1].x.lower)
        XCTAssertEqual(areas[0].x.upper, areas[1].x.upper)
        XCTAssertEqual(areas[0].y.lower, areas[1].y.lower)
        XCTAssertLessThanOrEqual(areas[0].x.lower, 0)
        XCTAssertGreaterThanOrEqual(areas[0].x.upper, 9)
        let folder = try makeTemporaryFolder(self)
        let image = try renderAndRead(chart, in: folder, width: 800, height: 400)
        XCTAssertGreaterThan(image.darkPixels(x: 250..<550, y: 0..<30), 20)
    }

    /// Panels line up their plots: a column shares its plots' left and right edges (one panel with
    /// a right-hand axis, the other with wider tick labels), a row its top and bottom (one panel
    /// with a two-line title and a legend, the other without an x label).
    func testSmallMultiplesLineUpTheirPlots() throws {
        let curve = LineSeries(name: "loss", xs: [0, 1, 2], ys: [1, 2, 3], color: Theme.real)
        let withRightAxis = LineChart(title: "losses", x: Axis("step"), y: Axis("loss"), secondaryY: Axis("accuracy", domain: 0...1),
                                      series: [curve, LineSeries(name: "accuracy", xs: [0, 1, 2], ys: [0.5, 0.6, 0.7],
                                                                 color: Theme.fake, onSecondaryAxis: true)])
        let wideTicks = LineChart(title: "distance", x: Axis("step"), y: Axis("distance"),
                                  series: [LineSeries(name: "", xs: [0, 1, 2], ys: [1_000, 20_000, 300_000], color: Theme.fake)])
        let column = layoutAreas(of: SmallMultiplesChart(title: "Training", panels: [withRightAxis, wideTicks], columns: 1,
                                                         shareAxes: true, shareLegend: false),
                                 options: RenderOptions(width: 800, height: 600))
        XCTAssertEqual(column.count, 2)
        XCTAssertEqual(column[0].rectangle.x, column[1].rectangle.x, accuracy: 0.01)
        XCTAssertEqual(column[0].rectangle.maxX, column[1].rectangle.maxX, accuracy: 0.01)
        XCTAssertEqual(column[0].pixelX(1), column[1].pixelX(1), accuracy: 0.01, "a step is at the same place in both panels")
        let tall = LineChart(title: "a title long enough to take two lines in a panel of this width", x: Axis("step"), y: Axis("loss"),
                             series: [curve])
        let bare = LineChart(title: "", x: Axis(""), y: Axis("loss"), series: [LineSeries(name: "", xs: [0, 1], ys: [0, 1], color: Theme.real)])
        let row = layoutAreas(of: SmallMultiplesChart(title: "", panels: [tall, bare], columns: 2, shareAxes: false, shareLegend: false),
                              options: RenderOptions(width: 800, height: 400))
        XCTAssertEqual(row.count, 2)
        XCTAssertEqual(row[0].rectangle.y, row[1].rectangle.y, accuracy: 0.01)
        XCTAssertEqual(row[0].rectangle.maxY, row[1].rectangle.maxY, accuracy: 0.01)
        // Equal-aspect panels keep their own layout (the data decide their plots' shape).
        let scatter = ScatterChart(title: "points", x: Axis("x"), y: Axis("y"),
                                   series: [ScatterSeries(name: "fake", xs: [0, 1], ys: [0, 1], color: Theme.fake)], equalAspect: true)
        let mixed = layoutAreas(of: SmallMultiplesChart(title: "", panels: [scatter, bare], columns: 2, shareAxes: false, shareLegend: false),
                                options: RenderOptions(width: 800, height: 400))
        XCTAssertEqual(mixed[0].rectangle, layoutAreas(of: SmallMultiplesChart(title: "", panels: [scatter, scatter], columns: 2,
                                                                               shareAxes: false, shareLegend: false),
                                                       options: RenderOptions(width: 800, height: 400))[0].rectangle)
    }

    func testAnimationLoopsWithSharedAxesAndCleanColours() throws {
        let frames: [any Chart] = (0..<3).map { frame in
            ScatterChart(title: "frame \(frame)", x: Axis("x"), y: Axis("y"),
                         series: [ScatterSeries(name: "fake", xs: [Double(frame)], ys: [Double(frame)], color: Theme.fake,
                                                pointSize: 30, alpha: 1)])
        }
        let folder = try makeTemporaryFolder(self)
        let path = folder + "/training.gif"
        try renderAnimation(frames, to: path, options: RenderOptions(width: 320, height: 240), frameDelay: 0.5)
        let gif = try DecodedGIF(path: path)
        let header = try Data(contentsOf: URL(fileURLWithPath: path)).prefix(6)
        XCTAssertEqual(String(decoding: header, as: UTF8.self), "GIF89a")
        XCTAssertEqual(gif.frames.count, 3)
        XCTAssertEqual(gif.delays, [50, 50, 50])
        XCTAssertTrue(gif.loopsForever)
        let shared = frames.map { layoutAreas(of: $0, options: RenderOptions(width: 320, height: 240)) }
        XCTAssertNotEqual(shared[0][0].x.upper, shared[2][0].x.upper, "alone, each frame would have its own axes")
        let areas = sharingAxes(frames).map { layoutAreas(of: $0, options: RenderOptions(width: 320, height: 240))[0] }
        for (index, area) in areas.enumerated() {
            XCTAssertEqual(area.x.lower, areas[0].x.lower)
            let (r, g, b) = gif.rgb(frame: index, Int(area.pixelX(Double(index))), Int(area.pixelY(Double(index))))
            let expected = (Int(Theme.fake.red * 255), Int(Theme.fake.green * 255), Int(Theme.fake.blue * 255))
            XCTAssertLessThan(abs(r - expected.0) + abs(g - expected.1) + abs(b - expected.2), 12)
        }
        XCTAssertThrowsError(try renderAnimation([], to: folder + "/empty.gif"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["training.gif"])
    }
}
