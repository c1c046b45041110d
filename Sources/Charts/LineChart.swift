import CCairo

/// One curve of a line chart.
public struct LineSeries: Sendable {
    /// Name shown in the legend (empty: no legend entry).
    public var name: String
    /// Horizontal coordinates.
    public var xs: [Double]
    /// Vertical coordinates.
    public var ys: [Double]
    /// Colour of the marks.
    public var color: Color
    /// Drawn with dashes.
    public var dashed: Bool
    /// Plotted against the chart's secondary (right) y-axis.
    public var onSecondaryAxis: Bool
    /// Moving-average window in points; above 1 the average is drawn over a faint raw line.
    public var smoothing: Int

    /// Creates a line series.
    public init(name: String, xs: [Double], ys: [Double], color: Color, dashed: Bool = false,
                onSecondaryAxis: Bool = false, smoothing: Int = 0) {
        self.name = name
        self.xs = xs
        self.ys = ys
        self.color = color
        self.dashed = dashed
        self.onSecondaryAxis = onSecondaryAxis
        self.smoothing = smoothing
    }

    /// Centred moving average over the finite neighbours of each point.
    func smoothed() -> [Double] {
        guard smoothing > 1 else { return ys }
        let half = smoothing / 2
        return ys.indices.map { index in
            guard ys[index].isFinite else { return ys[index] }
            var sum = 0.0, count = 0.0
            for neighbour in max(0, index - half)...min(ys.count - 1, index + half) where ys[neighbour].isFinite {
                sum += ys[neighbour]
                count += 1
            }
            return sum / count
        }
    }
}

/// A vertical marker at an x value, e.g. "learning rate changed".
public struct EventMarker: Sendable {
    /// Position on the x-axis.
    public var x: Double
    /// Text beside the marker.
    public var label: String

    /// Creates an event marker.
    public init(x: Double, label: String) {
        self.x = x
        self.label = label
    }
}

/// Curves over a shared x-axis, with an optional second y-axis and event markers.
public struct LineChart: Chart, AxisSharing, LegendProviding, PlotAligning {
    /// Title above the chart (wraps or shrinks to fit).
    public var title: String
    /// Horizontal axis.
    public var x: Axis
    /// Vertical axis.
    public var y: Axis
    /// Right-hand y-axis for series with `onSecondaryAxis`.
    public var secondaryY: Axis?
    /// Series drawn, in order.
    public var series: [LineSeries]
    /// Vertical markers such as "learning rate changed".
    public var events: [EventMarker]
    var showsLegend = true
    var plotInsets = PlotInsets()

    /// Creates a line chart; series with `onSecondaryAxis` use `secondaryY`.
    public init(title: String, x: Axis, y: Axis, secondaryY: Axis? = nil, series: [LineSeries],
                events: [EventMarker] = []) {
        self.title = title
        self.x = x
        self.y = y
        self.secondaryY = secondaryY
        self.series = series
        self.events = events
    }

    private func usesSecondary(_ item: LineSeries) -> Bool { item.onSecondaryAxis && secondaryY != nil }

    /// Draws the chart into `rectangle` of `canvas`.
    public func draw(on canvas: Canvas, in rectangle: Rectangle) {
        var skipped = SkipCounter()
        for item in series {
            let axis = usesSecondary(item) ? secondaryY! : y
            for index in 0..<min(item.xs.count, item.ys.count) {
                let px = item.xs[index], py = item.ys[index]
                if !px.isFinite || !py.isFinite { skipped.nonFinite += 1 }
                else if (x.logScale && px <= 0) || (axis.logScale && py <= 0) { skipped.nonPositive += 1 }
            }
        }
        let legend = showsLegend ? legendEntries : []
        var xValues = dataValues(axis: .x)
        xValues += events.map(\.x).filter { $0.isFinite }
        let frame = PlotFrame(title: title, x: x, y: y, secondaryY: secondaryY, xValues: xValues,
                              yValues: values(secondary: false), secondaryValues: values(secondary: true),
                              legend: legend, notes: skipped.notes, minimumInsets: plotInsets)
        frame.draw(on: canvas, in: rectangle) { area in
            drawEvents(on: canvas, area: area)
            let width = max(canvas.unit * 0.16, 2)
            for item in series {
                let secondary = usesSecondary(item)
                let dashes = item.dashed ? [canvas.unit * 0.45, canvas.unit * 0.25] : []
                if item.smoothing > 1 {
                    polyline(on: canvas, area: area, xs: item.xs, ys: item.ys, secondary: secondary,
                             color: item.color.withAlpha(0.25 * item.color.alpha), width: width * 0.6, dashes: [])
                    polyline(on: canvas, area: area, xs: item.xs, ys: item.smoothed(), secondary: secondary,
                             color: item.color, width: width, dashes: dashes)
                } else {
                    polyline(on: canvas, area: area, xs: item.xs, ys: item.ys, secondary: secondary,
                             color: item.color, width: width, dashes: dashes)
                }
            }
        }
    }

    var legendEntries: [LegendEntry] {
        series.filter { !$0.name.isEmpty }.map {
            LegendEntry(name: usesSecondary($0) ? $0.name + " (right)" : $0.name, color: $0.color,
                        style: .line(dashed: $0.dashed))
        }
    }

    private func drawEvents(on canvas: Canvas, area: PlotArea) {
        let plot = area.rectangle
        for event in events where area.x.accepts(event.x) {
            let px = area.pixelX(event.x)
            canvas.line(from: (px, plot.y), to: (px, plot.maxY), color: Theme.mutedText, width: canvas.lineWidth,
                        dashes: [canvas.unit * 0.2, canvas.unit * 0.2])
            canvas.setFont(size: canvas.noteSize)
            let fitsRight = px + canvas.unit * 0.2 + canvas.textWidth(event.label) < plot.maxX
            canvas.text(event.label, x: fitsRight ? px + canvas.unit * 0.2 : px - canvas.unit * 0.2,
                        top: plot.y + canvas.unit * 0.2, size: canvas.noteSize, color: Theme.mutedText,
                        alignment: fitsRight ? .left : .right)
        }
    }

    /// Draws connected runs of placeable points; a skipped value breaks the line.
    private func polyline(on canvas: Canvas, area: PlotArea, xs: [Double], ys: [Double], secondary: Bool,
                          color: Color, width: Double, dashes: [Double]) {
        let context = canvas.context
        let scale = secondary ? area.secondaryY! : area.y
        var drawing = false
        for index in 0..<min(xs.count, ys.count) {
            guard area.x.accepts(xs[index]), scale.accepts(ys[index]) else {
                drawing = false
                continue
            }
            let (px, py) = area.point(xs[index], ys[index], secondary: secondary)
            if drawing { cairo_line_to(context, px, py) } else { cairo_move_to(context, px, py) }
            drawing = true
        }
        canvas.setColor(color)
        cairo_set_line_width(context, width)
        cairo_set_line_join(context, CAIRO_LINE_JOIN_ROUND)
        cairo_set_line_cap(context, CAIRO_LINE_CAP_ROUND)
        canvas.setDashes(dashes)
        cairo_stroke(context)
        canvas.setDashes([])
        cairo_set_line_cap(context, CAIRO_LINE_CAP_BUTT)
    }

    /// Coordinates of the points that can be placed, for one y-axis or for x.
    private func placeable(secondary: Bool?, takeX: Bool) -> [Double] {
        series.filter { secondary == nil || usesSecondary($0) == secondary }.flatMap { item -> [Double] in
            let axis = usesSecondary(item) ? secondaryY! : y
            return zip(item.xs, item.ys).compactMap { pair -> Double? in
                guard pair.0.isFinite, pair.1.isFinite, !(x.logScale && pair.0 <= 0), !(axis.logScale && pair.1 <= 0)
                else { return nil }
                return takeX ? pair.0 : pair.1
            }
        }
    }

    private func values(secondary: Bool) -> [Double] { placeable(secondary: secondary, takeX: false) }

    func dataValues(axis: AxisKind) -> [Double] {
        axis == .x ? placeable(secondary: nil, takeX: true) : values(secondary: false)
    }

    var domainPadding: Double { 0 }

    func replacingAxes(x: Axis, y: Axis) -> LineChart {
        var copy = self
        copy.x = x
        copy.y = y
        return copy
    }
}
