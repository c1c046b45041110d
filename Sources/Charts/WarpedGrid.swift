import CCairo
import Foundation

/// A regular grid of the noise space pushed through the generator: vertices `rows × columns`
/// (row-major), drawn as quadrilaterals shaded by density (small cells = dense = dark).
public struct WarpedGridChart: Chart, AxisSharing {
    /// Title above the chart (wraps or shrinks to fit).
    public var title: String
    /// Horizontal axis.
    public var x: Axis
    /// Vertical axis.
    public var y: Axis
    /// Mapped vertex positions, row-major: vertex (row, column) is at index row × columns + column.
    public var vertexXs: [Double]
    /// Vertical positions of the vertices, in the same order.
    public var vertexYs: [Double]
    /// Number of grid rows.
    public var rows: Int
    /// Number of grid columns.
    public var columns: Int
    /// Colour of the marks.
    public var color: Color
    /// Points drawn over the grid (e.g. real samples).
    public var points: [ScatterSeries]
    /// One data unit is as long on x as on y.
    public var equalAspect: Bool

    /// Creates a warped-grid chart.
    public init(title: String, x: Axis, y: Axis, vertexXs: [Double], vertexYs: [Double], rows: Int, columns: Int,
                color: Color = Theme.fake, points: [ScatterSeries] = [], equalAspect: Bool = true) {
        self.title = title
        self.x = x
        self.y = y
        self.vertexXs = vertexXs
        self.vertexYs = vertexYs
        self.rows = rows
        self.columns = columns
        self.color = color
        self.points = points
        self.equalAspect = equalAspect
    }

    private var vertexCount: Int { min(vertexXs.count, vertexYs.count, max(rows, 0) * max(columns, 0)) }

    private func isFiniteVertex(_ index: Int) -> Bool { vertexXs[index].isFinite && vertexYs[index].isFinite }

    /// The four vertex indices of cell (row, column), counter-clockwise.
    private func corners(_ row: Int, _ column: Int) -> [Int] {
        [row * columns + column, row * columns + column + 1, (row + 1) * columns + column + 1, (row + 1) * columns + column]
    }

    /// Area of each cell in data units (nil when a corner is missing).
    func cellAreas() -> [Double?] {
        guard rows >= 2, columns >= 2, vertexCount == rows * columns else { return [] }
        var areas: [Double?] = []
        for row in 0..<(rows - 1) {
            for column in 0..<(columns - 1) {
                let indices = corners(row, column)
                guard indices.allSatisfy(isFiniteVertex) else { areas.append(nil); continue }
                var twiceArea = 0.0
                for corner in 0..<4 {
                    let a = indices[corner], b = indices[(corner + 1) % 4]
                    twiceArea += vertexXs[a] * vertexYs[b] - vertexXs[b] * vertexYs[a]
                }
                areas.append(abs(twiceArea) / 2)
            }
        }
        return areas
    }

    /// Draws the chart into `rectangle` of `canvas`.
    public func draw(on canvas: Canvas, in rectangle: Rectangle) {
        var skipped = SkipCounter()
        skipped.nonFinite = (0..<vertexCount).filter { !isFiniteVertex($0) }.count
        for item in points { item.count(skipped: &skipped, x: x, y: y) }
        var legend = points.filter { !$0.name.isEmpty }.map {
            LegendEntry(name: $0.name, color: $0.color, style: .point($0.shape))
        }
        legend.append(LegendEntry(name: "generator's image of the noise grid (darker = denser)",
                                  color: color.withAlpha(0.5), style: .area))
        let frame = PlotFrame(title: title, x: x, y: y, secondaryY: nil, xValues: dataValues(axis: .x),
                              yValues: dataValues(axis: .y), legend: legend, notes: skipped.notes,
                              equalAspect: equalAspect, domainPadding: 0.03)
        frame.draw(on: canvas, in: rectangle) { area in
            drawCells(on: canvas, area: area)
            for item in points { item.draw(on: canvas, area: area) }
        }
    }

    private func drawCells(on canvas: Canvas, area: PlotArea) {
        let areas = cellAreas()
        guard !areas.isEmpty else { return }
        let sorted = areas.compactMap { $0 }.filter { $0 > 0 }.sorted()
        let median = sorted.isEmpty ? 1 : sorted[sorted.count / 2]
        let context = canvas.context
        var cell = 0
        for row in 0..<(rows - 1) {
            for column in 0..<(columns - 1) {
                defer { cell += 1 }
                guard let cellArea = areas[cell] else { continue }
                // Density relative to the median cell, on a log scale: ×4 denser → darkest, ×4 sparser → palest.
                let density = cellArea > 0 ? log2(median / cellArea) : 2
                let opacity = 0.08 + 0.5 * min(max((density + 2) / 4, 0), 1)
                let indices = corners(row, column)
                for (position, index) in indices.enumerated() {
                    let (px, py) = area.point(vertexXs[index], vertexYs[index])
                    if position == 0 { cairo_move_to(context, px, py) } else { cairo_line_to(context, px, py) }
                }
                cairo_close_path(context)
                canvas.setColor(color.withAlpha(opacity))
                cairo_fill_preserve(context)
                canvas.setColor(color.withAlpha(0.55))
                cairo_set_line_width(context, max(canvas.unit * 0.04, 0.6))
                cairo_stroke(context)
            }
        }
    }

    func dataValues(axis: AxisKind) -> [Double] {
        let vertices = (0..<vertexCount).filter(isFiniteVertex).map { axis == .x ? vertexXs[$0] : vertexYs[$0] }
        return vertices + ScatterChart(title: "", x: x, y: y, series: points).dataValues(axis: axis)
    }

    var domainPadding: Double { 0.03 }

    func replacingAxes(x: Axis, y: Axis) -> WarpedGridChart {
        var copy = self
        copy.x = x
        copy.y = y
        return copy
    }
}
