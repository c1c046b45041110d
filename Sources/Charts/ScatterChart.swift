import CCairo

/// One cloud of points of a scatter chart.
public struct ScatterSeries: Sendable {
    /// Name shown in the legend (empty: no legend entry).
    public var name: String
    /// Horizontal coordinates.
    public var xs: [Double]
    /// Vertical coordinates.
    public var ys: [Double]
    /// Colour of the marks.
    public var color: Color
    /// Marker diameter in theme points (4 is a dense cloud, 8 a handful of highlighted points).
    public var pointSize: Double
    /// Opacity of every point.
    public var alpha: Double
    /// Per-point opacities (replace `alpha`).
    public var alphas: [Double]?
    /// Per-point diameters (replace `pointSize`).
    public var sizes: [Double]?
    /// Marker shape.
    public var shape: MarkerShape

    /// Creates a series; `alphas` and `sizes`, when given, hold one value per point.
    public init(name: String, xs: [Double], ys: [Double], color: Color, pointSize: Double = 4, alpha: Double = 0.7,
                alphas: [Double]? = nil, sizes: [Double]? = nil, shape: MarkerShape = .circle) {
        self.name = name
        self.xs = xs
        self.ys = ys
        self.color = color
        self.pointSize = pointSize
        self.alpha = alpha
        self.alphas = alphas
        self.sizes = sizes
        self.shape = shape
    }

    /// Indices of points both coordinates of which can be placed on the given axes.
    func count(skipped counter: inout SkipCounter, x: Axis, y: Axis) {
        for index in 0..<min(xs.count, ys.count) {
            let px = xs[index], py = ys[index]
            if !px.isFinite || !py.isFinite { counter.nonFinite += 1 }
            else if (x.logScale && px <= 0) || (y.logScale && py <= 0) { counter.nonPositive += 1 }
        }
    }

    /// Draws the points into a resolved plot area.
    func draw(on canvas: Canvas, area: PlotArea, outline: Color? = nil) {
        let baseDiameter = canvas.unit * 0.08
        for index in 0..<min(xs.count, ys.count) {
            let xValue = xs[index], yValue = ys[index]
            guard area.x.accepts(xValue), area.y.accepts(yValue) else { continue }
            let opacity = alphas.flatMap { index < $0.count ? $0[index] : nil } ?? alpha
            let size = sizes.flatMap { index < $0.count ? $0[index] : nil } ?? pointSize
            guard opacity.isFinite, size.isFinite, size > 0 else { continue }
            let (px, py) = area.point(xValue, yValue)
            canvas.marker(shape, x: px, y: py, size: size * baseDiameter, color: color.withAlpha(opacity * color.alpha),
                          outline: outline)
        }
    }
}

/// Points of one or more series on two axes.
public struct ScatterChart: Chart, AxisSharing, LegendProviding, PlotAligning {
    /// Title above the chart (wraps or shrinks to fit).
    public var title: String
    /// Horizontal axis.
    public var x: Axis
    /// Vertical axis.
    public var y: Axis
    /// Series drawn, in order.
    public var series: [ScatterSeries]
    /// One data unit is as long on x as on y (2-D data must not look squashed).
    public var equalAspect: Bool
    var showsLegend = true
    var plotInsets = PlotInsets()
    /// With an equal aspect ratio the data decide the plot's shape, so it is not lined up with others.
    var alignsPlot: Bool { !equalAspect }

    /// Creates a scatter chart.
    public init(title: String, x: Axis, y: Axis, series: [ScatterSeries], equalAspect: Bool = false) {
        self.title = title
        self.x = x
        self.y = y
        self.series = series
        self.equalAspect = equalAspect
    }

    /// Draws the chart into `rectangle` of `canvas`.
    public func draw(on canvas: Canvas, in rectangle: Rectangle) {
        var skipped = SkipCounter()
        for item in series { item.count(skipped: &skipped, x: x, y: y) }
        let frame = PlotFrame(title: title, x: x, y: y, secondaryY: nil,
                              xValues: dataValues(axis: .x), yValues: dataValues(axis: .y),
                              legend: showsLegend ? legendEntries : [],
                              notes: skipped.notes, equalAspect: equalAspect, domainPadding: 0.03, minimumInsets: plotInsets)
        frame.draw(on: canvas, in: rectangle) { area in
            for item in series { item.draw(on: canvas, area: area) }
        }
    }

    var legendEntries: [LegendEntry] {
        series.filter { !$0.name.isEmpty }.map { LegendEntry(name: $0.name, color: $0.color, style: .point($0.shape)) }
    }

    func dataValues(axis: AxisKind) -> [Double] {
        series.flatMap { item -> [Double] in
            zip(item.xs, item.ys).compactMap { pair -> Double? in
                guard pair.0.isFinite, pair.1.isFinite, !(x.logScale && pair.0 <= 0), !(y.logScale && pair.1 <= 0)
                else { return nil }
                return axis == .x ? pair.0 : pair.1
            }
        }
    }

    var domainPadding: Double { 0.03 }

    func replacingAxes(x: Axis, y: Axis) -> ScatterChart {
        var copy = self
        copy.x = x
        copy.y = y
        return copy
    }
}
