import CCairo

/// Which axis of a 2-D chart.
enum AxisKind { case x, y }

/// A chart whose axes can be fixed to ranges shared with other charts (filmstrips, animations).
protocol AxisSharing: Chart {
    var x: Axis { get }
    var y: Axis { get }
    func dataValues(axis: AxisKind) -> [Double]
    /// Fraction of the span added around automatic ranges.
    var domainPadding: Double { get }
    func replacingAxes(x: Axis, y: Axis) -> Self
}

extension AxisSharing {
    func replacingAxesErased(x: Axis, y: Axis) -> any Chart { replacingAxes(x: x, y: y) }
}

/// Fixes every automatic axis of the sharing charts to the range covering all of them,
/// so nothing jumps between frames or panels. Other charts are returned unchanged.
func sharingAxes(_ charts: [any Chart]) -> [any Chart] {
    let sharing = charts.compactMap { $0 as? any AxisSharing }
    guard let first = sharing.first else { return charts }
    let xValues = sharing.flatMap { $0.dataValues(axis: .x) }
    let yValues = sharing.flatMap { $0.dataValues(axis: .y) }
    func shared(_ axis: Axis, _ values: [Double]) -> Axis {
        guard axis.domain == nil else { return axis }
        let scale = Scale(axis: axis, values: values, padding: first.domainPadding)
        var fixed = axis
        fixed.domain = scale.lower...scale.upper
        return fixed
    }
    let sharedX = shared(first.x, xValues), sharedY = shared(first.y, yValues)
    return charts.map { chart in
        guard let chart = chart as? any AxisSharing else { return chart }
        var x = chart.x, y = chart.y
        if x.domain == nil { x.domain = sharedX.domain }
        if y.domain == nil { y.domain = sharedY.domain }
        return chart.replacingAxesErased(x: x, y: y)
    }
}

/// A chart whose legend a figure of several charts can draw once for all of them.
protocol LegendProviding: Chart {
    var legendEntries: [LegendEntry] { get }
    var showsLegend: Bool { get set }
}

extension LegendProviding {
    func hidingLegend() -> any Chart {
        var copy = self
        copy.showsLegend = false
        return copy
    }
}

/// One legend for several charts: the entries of all of them, each name once, and the charts without
/// their own legends. Returns nil entries when some chart cannot give up its legend.
func sharingLegend(_ charts: [any Chart]) -> (entries: [LegendEntry], charts: [any Chart])? {
    let providers = charts.compactMap { $0 as? any LegendProviding }
    guard providers.count == charts.count else { return nil }
    var seen = Set<String>()
    var entries: [LegendEntry] = []
    for entry in providers.flatMap(\.legendEntries) where seen.insert(entry.name).inserted { entries.append(entry) }
    return (entries, providers.map { $0.hidingLegend() })
}

/// A chart drawn in one plot frame whose plot can be moved in from its bounds, so that the
/// panels of a figure line up.
protocol PlotAligning: Chart {
    var plotInsets: PlotInsets { get set }
    /// Whether this chart's plot may move (false where its data decide its shape).
    var alignsPlot: Bool { get }
}

extension PlotAligning {
    var alignsPlot: Bool { true }
}

/// The panels with their plots lined up: in each column the same left and right edges, in each
/// row the same top and bottom (the widest room any panel there needs), so that a shared axis
/// reads across panels and a figure's grid looks like one. `cells[i]` is where `charts[i]` is
/// drawn, in `column(i)` and `row(i)`; each panel is laid out once on a scratch surface to find
/// its plot. Charts that are not `PlotAligning`, keep their own shape (`alignsPlot`) or draw more
/// than one plot are left as they are.
func aligningPlots(_ charts: [any Chart], cells: [Rectangle], column: (Int) -> Int, row: (Int) -> Int,
                   unit: Double) -> [any Chart] {
    guard charts.count > 1, let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1) else { return charts }
    defer { cairo_surface_destroy(surface) }
    guard let context = cairo_create(surface) else { return charts }
    defer { cairo_destroy(context) }
    var insets: [Int: PlotInsets] = [:]
    for (index, chart) in charts.enumerated() {
        guard let aligning = chart as? any PlotAligning, aligning.alignsPlot else { continue }
        let probe = Canvas(context: context, unit: unit)
        chart.draw(on: probe, in: cells[index])
        guard probe.plotAreas.count == 1 else { continue }
        let plot = probe.plotAreas[0].rectangle, cell = cells[index]
        insets[index] = PlotInsets(left: plot.x - cell.x, right: cell.maxX - plot.maxX, top: plot.y - cell.y,
                                   bottom: cell.maxY - plot.maxY)
    }
    guard insets.count > 1 else { return charts }
    var left: [Int: Double] = [:], right: [Int: Double] = [:], top: [Int: Double] = [:], bottom: [Int: Double] = [:]
    for (index, inset) in insets {
        left[column(index)] = max(left[column(index)] ?? 0, inset.left)
        right[column(index)] = max(right[column(index)] ?? 0, inset.right)
        top[row(index)] = max(top[row(index)] ?? 0, inset.top)
        bottom[row(index)] = max(bottom[row(index)] ?? 0, inset.bottom)
    }
    return charts.enumerated().map { index, chart in
        guard insets[index] != nil, var aligned = chart as? any PlotAligning else { return chart }
        aligned.plotInsets = PlotInsets(left: left[column(index)]!, right: right[column(index)]!, top: top[row(index)]!,
                                        bottom: bottom[row(index)]!)
        return aligned
    }
}
