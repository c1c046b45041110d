import CCairo
import Foundation

/// A scalar field on a regular grid (e.g. D(x) over the plane) with a colour bar, an optional
/// contour line, and points or arrows drawn over it.
public struct HeatmapChart: Chart, AxisSharing {
    /// Title above the chart (wraps or shrinks to fit).
    public var title: String
    /// Horizontal axis.
    public var x: Axis
    /// Vertical axis.
    public var y: Axis
    /// Row-major values, `rows × columns`; row 0 is the lowest y, column 0 the lowest x.
    public var values: [Double]
    /// Number of grid rows.
    public var rows: Int
    /// Number of grid columns.
    public var columns: Int
    /// The region of the plane the grid covers (cell centres sit half a cell inside it).
    public var gridX: ClosedRange<Double>
    /// Vertical extent of the grid.
    public var gridY: ClosedRange<Double>
    /// Colour map of the values.
    public var colorMap: ColorMap
    /// Values mapped to the ends of the colour map (the centre of a diverging map is its midpoint).
    public var valueRange: ClosedRange<Double>
    /// Label of the colour bar.
    public var colorBarLabel: String
    /// A value at which a contour line is drawn (nil for none).
    public var contourLevel: Double?
    /// Points drawn over the field.
    public var points: [ScatterSeries]
    /// Arrows drawn over the points.
    public var arrows: [ArrowSeries]
    /// One data unit is as long on x as on y.
    public var equalAspect: Bool
    /// Blend neighbouring cells instead of drawing them as blocks.
    public var smooth: Bool

    /// Creates a heatmap; by default a decision surface: values in 0…1, real/fake diverging map, contour at 0.5.
    public init(title: String, x: Axis, y: Axis, values: [Double], rows: Int, columns: Int,
                gridX: ClosedRange<Double>, gridY: ClosedRange<Double>, colorMap: ColorMap = .realFake,
                valueRange: ClosedRange<Double> = 0...1, colorBarLabel: String = "D(x)", contourLevel: Double? = 0.5,
                points: [ScatterSeries] = [], arrows: [ArrowSeries] = [], equalAspect: Bool = false,
                smooth: Bool = false) {
        self.title = title
        self.x = x
        self.y = y
        self.values = values
        self.rows = rows
        self.columns = columns
        self.gridX = gridX
        self.gridY = gridY
        self.colorMap = colorMap
        self.valueRange = valueRange
        self.colorBarLabel = colorBarLabel
        self.contourLevel = contourLevel
        self.points = points
        self.arrows = arrows
        self.equalAspect = equalAspect
        self.smooth = smooth
    }

    private var hasGrid: Bool { rows > 0 && columns > 0 && values.count >= rows * columns }

    /// Draws the chart into `rectangle` of `canvas`.
    public func draw(on canvas: Canvas, in rectangle: Rectangle) {
        var skipped = SkipCounter()
        if hasGrid { skipped.nonFinite += values.prefix(rows * columns).filter { !$0.isFinite }.count }
        for item in points { item.count(skipped: &skipped, x: x, y: y) }
        for item in arrows { skipped.nonFinite += item.skippedCount }
        var legend = legendEntries(points: points, arrows: arrows)
        if let level = contourLevel, hasGrid {
            legend.append(LegendEntry(name: "\(colorBarLabel) = \(TickFormatter.number(level))",
                                      color: Theme.text, style: .line(dashed: false)))
        }
        let colorBar = ColorBar(label: colorBarLabel, colorMap: colorMap, range: valueRange, marker: contourLevel)
        var notes = skipped.notes
        if !hasGrid && (rows > 0 || columns > 0) {
            notes.append("grid not drawn: \(values.count) values for \(rows) × \(columns) cells")
        }
        notes += arrows.compactMap(\.scaleNote)
        let frame = PlotFrame(title: title, x: x, y: y, secondaryY: nil, xValues: dataValues(axis: .x),
                              yValues: dataValues(axis: .y), legend: legend, notes: notes,
                              equalAspect: equalAspect, rightReserve: colorBar.width(on: canvas))
        let area = frame.draw(on: canvas, in: rectangle) { area in
            if hasGrid {
                paintGrid(on: canvas, area: area)
                if let level = contourLevel { drawContour(level: level, on: canvas, area: area) }
            }
            for item in points { item.draw(on: canvas, area: area, outline: Color.white.withAlpha(0.8)) }
            for item in arrows { item.draw(on: canvas, area: area) }
        }
        colorBar.draw(on: canvas, beside: area.rectangle)
    }

    /// Cell colours into a small image, scaled up into the grid's rectangle.
    private func paintGrid(on canvas: Canvas, area: PlotArea) {
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(columns), Int32(rows)) else { return }
        defer { cairo_surface_destroy(surface) }
        cairo_surface_flush(surface)
        let stride = Int(cairo_image_surface_get_stride(surface))
        let data = cairo_image_surface_get_data(surface)!
        let span = valueRange.upperBound - valueRange.lowerBound
        for row in 0..<rows {
            let line = UnsafeMutableRawPointer(data + (rows - 1 - row) * stride).assumingMemoryBound(to: UInt32.self)
            for column in 0..<columns {
                let value = values[row * columns + column]
                guard value.isFinite else { line[column] = 0; continue }
                let color = colorMap.color(at: span > 0 ? (value - valueRange.lowerBound) / span : 0.5)
                line[column] = packedOpaque(color)
            }
        }
        cairo_surface_mark_dirty(surface)
        let left = area.pixelX(gridX.lowerBound), right = area.pixelX(gridX.upperBound)
        let top = area.pixelY(gridY.upperBound), bottom = area.pixelY(gridY.lowerBound)
        let context = canvas.context
        canvas.save()
        cairo_translate(context, left, top)
        cairo_scale(context, (right - left) / Double(columns), (bottom - top) / Double(rows))
        cairo_set_source_surface(context, surface, 0, 0)
        let pattern = cairo_get_source(context)
        cairo_pattern_set_filter(pattern, smooth ? CAIRO_FILTER_BILINEAR : CAIRO_FILTER_NEAREST)
        cairo_pattern_set_extend(pattern, CAIRO_EXTEND_PAD)
        cairo_rectangle(context, 0, 0, Double(columns), Double(rows))
        cairo_fill(context)
        canvas.restore()
    }

    /// Marching squares over the cell centres; each crossing cell contributes one or two segments.
    private func drawContour(level: Double, on canvas: Canvas, area: PlotArea) {
        let context = canvas.context
        let cellWidth = (gridX.upperBound - gridX.lowerBound) / Double(columns)
        let cellHeight = (gridY.upperBound - gridY.lowerBound) / Double(rows)
        let x0 = gridX.lowerBound + cellWidth / 2, y0 = gridY.lowerBound + cellHeight / 2
        for segment in ContourTracer.segments(values: values, rows: rows, columns: columns, level: level) {
            let start = segment.0, end = segment.1
            let a = area.point(x0 + start.column * cellWidth, y0 + start.row * cellHeight)
            let b = area.point(x0 + end.column * cellWidth, y0 + end.row * cellHeight)
            cairo_move_to(context, a.0, a.1)
            cairo_line_to(context, b.0, b.1)
        }
        canvas.setColor(Theme.text)
        cairo_set_line_width(context, max(canvas.unit * 0.12, 1.5))
        cairo_set_line_cap(context, CAIRO_LINE_CAP_ROUND)
        cairo_stroke(context)
        cairo_set_line_cap(context, CAIRO_LINE_CAP_BUTT)
    }

    func dataValues(axis: AxisKind) -> [Double] {
        let grid = axis == .x ? [gridX.lowerBound, gridX.upperBound] : [gridY.lowerBound, gridY.upperBound]
        let pointValues = ScatterChart(title: "", x: x, y: y, series: points).dataValues(axis: axis)
        return grid + pointValues + arrows.flatMap { $0.dataValues(axis: axis) }
    }

    var domainPadding: Double { 0 }

    func replacingAxes(x: Axis, y: Axis) -> HeatmapChart {
        var copy = self
        copy.x = x
        copy.y = y
        return copy
    }
}

/// Premultiplied opaque ARGB32 pixel of a colour (alpha ignored).
func packedOpaque(_ color: Color) -> UInt32 {
    func byte(_ value: Double) -> UInt32 { UInt32(max(0, min(255, (value * 255).rounded()))) }
    return 0xFF00_0000 | byte(color.red) << 16 | byte(color.green) << 8 | byte(color.blue)
}

/// A point in fractional grid coordinates (row and column of cell centres).
struct GridPoint { var row: Double; var column: Double }

/// Iso-lines of a grid of values by marching squares.
enum ContourTracer {
    static func segments(values: [Double], rows: Int, columns: Int, level: Double) -> [(GridPoint, GridPoint)] {
        guard rows >= 2, columns >= 2 else { return [] }
        var result: [(GridPoint, GridPoint)] = []
        for row in 0..<(rows - 1) {
            for column in 0..<(columns - 1) {
                // Corners counter-clockwise from the lower left.
                let corners = [(row, column), (row, column + 1), (row + 1, column + 1), (row + 1, column)]
                let cornerValues = corners.map { values[$0.0 * columns + $0.1] }
                guard cornerValues.allSatisfy({ $0.isFinite }) else { continue }
                var crossings: [GridPoint] = []
                for edge in 0..<4 {
                    let a = cornerValues[edge], b = cornerValues[(edge + 1) % 4]
                    guard (a < level) != (b < level) else { continue }
                    let t = (level - a) / (b - a)
                    let from = corners[edge], to = corners[(edge + 1) % 4]
                    crossings.append(GridPoint(row: Double(from.0) + t * Double(to.0 - from.0),
                                               column: Double(from.1) + t * Double(to.1 - from.1)))
                }
                if crossings.count == 2 {
                    result.append((crossings[0], crossings[1]))
                } else if crossings.count == 4 {
                    // Saddle: pair the crossings by the value at the cell's centre.
                    let centreHigh = cornerValues.reduce(0, +) / 4 >= level
                    let firstHigh = cornerValues[0] >= level
                    if centreHigh == firstHigh {
                        result.append((crossings[0], crossings[1]))
                        result.append((crossings[2], crossings[3]))
                    } else {
                        result.append((crossings[3], crossings[0]))
                        result.append((crossings[1], crossings[2]))
                    }
                }
            }
        }
        return result
    }
}
