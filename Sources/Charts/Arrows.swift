/// Arrows at points, e.g. the discriminator's gradient on each fake sample.
public struct ArrowSeries: Sendable {
    /// Name shown in the legend (empty: no legend entry).
    public var name: String
    /// Horizontal coordinates.
    public var xs: [Double]
    /// Vertical coordinates.
    public var ys: [Double]
    /// Arrow components in data units, before `scale`.
    public var dxs: [Double]
    /// Vertical components.
    public var dys: [Double]
    /// Colour of the marks.
    public var color: Color
    /// Drawn length = vector × scale; stated in a note on the chart.
    public var scale: Double

    /// Creates arrows from (xs, ys) along (dxs, dys) × scale.
    public init(name: String, xs: [Double], ys: [Double], dxs: [Double], dys: [Double], color: Color,
                scale: Double = 1) {
        self.name = name
        self.xs = xs
        self.ys = ys
        self.dxs = dxs
        self.dys = dys
        self.color = color
        self.scale = scale
    }

    private var count: Int { min(xs.count, ys.count, dxs.count, dys.count) }

    private func isPlaceable(_ index: Int) -> Bool {
        xs[index].isFinite && ys[index].isFinite && dxs[index].isFinite && dys[index].isFinite
    }

    var skippedCount: Int { (0..<count).filter { !isPlaceable($0) }.count }

    var scaleNote: String? {
        scale == 1 ? nil : "\(name.isEmpty ? "arrows" : name) drawn × \(TickFormatter.number(scale))"
    }

    func dataValues(axis: AxisKind) -> [Double] {
        (0..<count).filter(isPlaceable).flatMap { index -> [Double] in
            axis == .x ? [xs[index], xs[index] + dxs[index] * scale] : [ys[index], ys[index] + dys[index] * scale]
        }
    }

    func draw(on canvas: Canvas, area: PlotArea) {
        let width = max(canvas.unit * 0.1, 1.5), head = canvas.unit * 0.55
        for index in 0..<count where isPlaceable(index) {
            let start = area.point(xs[index], ys[index])
            let end = area.point(xs[index] + dxs[index] * scale, ys[index] + dys[index] * scale)
            canvas.arrow(from: start, to: end, color: color, width: width, headLength: head)
        }
    }
}

/// Arrows over optional points on two axes.
public struct VectorFieldChart: Chart, AxisSharing {
    /// Title above the chart (wraps or shrinks to fit).
    public var title: String
    /// Horizontal axis.
    public var x: Axis
    /// Vertical axis.
    public var y: Axis
    /// Arrows drawn over the points.
    public var arrows: [ArrowSeries]
    /// Points drawn over the field.
    public var points: [ScatterSeries]
    /// One data unit is as long on x as on y.
    public var equalAspect: Bool

    /// Creates a vector field chart; points are drawn under the arrows.
    public init(title: String, x: Axis, y: Axis, arrows: [ArrowSeries], points: [ScatterSeries] = [],
                equalAspect: Bool = true) {
        self.title = title
        self.x = x
        self.y = y
        self.arrows = arrows
        self.points = points
        self.equalAspect = equalAspect
    }

    /// Draws the chart into `rectangle` of `canvas`.
    public func draw(on canvas: Canvas, in rectangle: Rectangle) {
        var skipped = SkipCounter()
        for item in points { item.count(skipped: &skipped, x: x, y: y) }
        for item in arrows { skipped.nonFinite += item.skippedCount }
        let legend = legendEntries(points: points, arrows: arrows)
        let frame = PlotFrame(title: title, x: x, y: y, secondaryY: nil, xValues: dataValues(axis: .x),
                              yValues: dataValues(axis: .y), legend: legend,
                              notes: skipped.notes + arrows.compactMap(\.scaleNote), equalAspect: equalAspect,
                              domainPadding: 0.03)
        frame.draw(on: canvas, in: rectangle) { area in
            for item in points { item.draw(on: canvas, area: area) }
            for item in arrows { item.draw(on: canvas, area: area) }
        }
    }

    func dataValues(axis: AxisKind) -> [Double] {
        ScatterChart(title: "", x: x, y: y, series: points).dataValues(axis: axis)
            + arrows.flatMap { $0.dataValues(axis: axis) }
    }

    var domainPadding: Double { 0.03 }

    func replacingAxes(x: Axis, y: Axis) -> VectorFieldChart {
        var copy = self
        copy.x = x
        copy.y = y
        return copy
    }
}

/// Legend entries of named point series (their markers), then of named arrow series (arrows).
func legendEntries(points: [ScatterSeries], arrows: [ArrowSeries]) -> [LegendEntry] {
    points.filter { !$0.name.isEmpty }.map { LegendEntry(name: $0.name, color: $0.color, style: .point($0.shape)) }
        + arrows.filter { !$0.name.isEmpty }.map { LegendEntry(name: $0.name, color: $0.color, style: .arrow) }
}
