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
