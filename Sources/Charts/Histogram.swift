import CCairo
import Foundation

/// Values of one distribution for a histogram.
public struct HistogramSeries: Sendable {
    /// Name shown in the legend (empty: no legend entry).
    public var name: String
    /// One value per sample (histogram) or per category (bars).
    public var values: [Double]
    /// Colour of the marks.
    public var color: Color

    /// Creates a histogram series.
    public init(name: String, values: [Double], color: Color) {
        self.name = name
        self.values = values
        self.color = color
    }
}

/// Overlaid, semi-transparent histograms over shared bins (e.g. a 1-D marginal of real vs fake).
public struct HistogramChart: Chart, AxisSharing, LegendProviding, PlotAligning {
    /// Title above the chart (wraps or shrinks to fit).
    public var title: String
    /// Horizontal axis.
    public var x: Axis
    /// Vertical axis.
    public var y: Axis
    /// Series drawn, in order.
    public var series: [HistogramSeries]
    /// Number of equal-width bins over the x range.
    public var bins: Int
    /// Show densities (area 1) instead of counts, so series of different sizes compare.
    public var normalized: Bool
    var showsLegend = true
    var plotInsets = PlotInsets()

    /// Creates a histogram; bins span the x-axis range (fixed, or nice-rounded from the data).
    public init(title: String, x: Axis, y: Axis? = nil, series: [HistogramSeries], bins: Int = 30,
                normalized: Bool = false) {
        self.title = title
        self.x = x
        self.y = y ?? Axis(normalized ? "density" : "count")
        self.series = series
        self.bins = max(bins, 1)
        self.normalized = normalized
    }

    /// The bin range: the x-axis domain, or the extent of the finite data.
    func binRange() -> ClosedRange<Double> {
        if let domain = x.domain, domain.upperBound > domain.lowerBound { return domain }
        let values = dataValues(axis: .x)
        guard let low = values.min(), let high = values.max() else { return 0...1 }
        return high > low ? low...high : (low - 0.5)...(high + 0.5)
    }

    /// Height of each bin for one series (counts, or densities when normalized).
    func heights(of item: HistogramSeries, range: ClosedRange<Double>) -> [Double] {
        var counts = [Double](repeating: 0, count: bins)
        let width = (range.upperBound - range.lowerBound) / Double(bins)
        var total = 0.0
        for value in item.values where value.isFinite && range.contains(value) {
            counts[min(Int((value - range.lowerBound) / width), bins - 1)] += 1
            total += 1
        }
        return normalized && total > 0 ? counts.map { $0 / (total * width) } : counts
    }

    /// Draws the chart into `rectangle` of `canvas`.
    public func draw(on canvas: Canvas, in rectangle: Rectangle) {
        let range = binRange()
        let heightsBySeries = series.map { heights(of: $0, range: range) }
        var skipped = SkipCounter()
        skipped.nonFinite = series.map { $0.values.filter { !$0.isFinite }.count }.reduce(0, +)
        let outside = series.map { $0.values.filter { $0.isFinite && !range.contains($0) }.count }.reduce(0, +)
        var notes = skipped.notes
        if outside > 0 { notes.append("\(outside) value\(outside == 1 ? "" : "s") outside the x range") }
        var yAxis = y
        if yAxis.domain == nil, !yAxis.logScale {
            yAxis.domain = Scale.countDomain(y, values: heightsBySeries.flatMap { $0 })
        }
        let frame = PlotFrame(title: title, x: x, y: yAxis, secondaryY: nil, xValues: [range.lowerBound, range.upperBound],
                              yValues: [], legend: showsLegend ? legendEntries : [],
                              notes: notes, minimumInsets: plotInsets)
        frame.draw(on: canvas, in: rectangle) { area in
            let width = (range.upperBound - range.lowerBound) / Double(bins)
            let context = canvas.context
            for (item, heights) in zip(series, heightsBySeries) {
                // One outline path per series: bars filled translucently, top edges stroked.
                for (bin, height) in heights.enumerated() where height > 0 {
                    let left = area.pixelX(range.lowerBound + Double(bin) * width)
                    let right = area.pixelX(range.lowerBound + Double(bin + 1) * width)
                    let top = area.pixelY(height), bottom = area.pixelY(yAxis.logScale ? area.y.lower : 0)
                    cairo_rectangle(context, left, top, right - left, bottom - top)
                }
                canvas.setColor(item.color.withAlpha(0.45))
                cairo_fill_preserve(context)
                canvas.setColor(item.color.withAlpha(0.9))
                cairo_set_line_width(context, max(canvas.unit * 0.05, 0.8))
                cairo_stroke(context)
            }
        }
    }

    var legendEntries: [LegendEntry] {
        series.filter { !$0.name.isEmpty }.map { LegendEntry(name: $0.name, color: $0.color.withAlpha(0.55), style: .area) }
    }

    func dataValues(axis: AxisKind) -> [Double] {
        axis == .x ? series.flatMap { $0.values.filter { $0.isFinite } } : []
    }

    var domainPadding: Double { 0 }

    func replacingAxes(x: Axis, y: Axis) -> HistogramChart {
        var copy = self
        copy.x = x
        return copy
    }
}

extension Scale {
    /// A nice range that includes 0 and the values (0…1 when all are 0).
    static func countDomain(_ axis: Axis, values: [Double]) -> ClosedRange<Double> {
        let finite = values.filter { $0.isFinite }
        guard finite.contains(where: { $0 != 0 }) else { return 0...1 }
        let scale = Scale(axis: axis, values: [0] + finite)
        return scale.lower...scale.upper
    }
}

/// Values of one series of a bar chart, one per category.
public struct BarSeries: Sendable {
    /// Name shown in the legend (empty: no legend entry).
    public var name: String
    /// One value per sample (histogram) or per category (bars).
    public var values: [Double]
    /// Colour of the marks.
    public var color: Color
    /// Half-lengths of error whiskers drawn at ± each value (e.g. standard errors); nil: none.
    /// Bar charts only.
    public var errors: [Double]?

    /// Creates a bar series.
    public init(name: String, values: [Double], color: Color, errors: [Double]? = nil) {
        self.name = name
        self.values = values
        self.color = color
        self.errors = errors
    }
}

/// Bars per category (e.g. samples per mode) with an optional dashed line at the ideal count.
public struct BarChart: Chart, LegendProviding, PlotAligning {
    /// Title above the chart (wraps or shrinks to fit).
    public var title: String
    /// Category names along x.
    public var categories: [String]
    /// Horizontal axis.
    public var x: Axis
    /// Vertical axis.
    public var y: Axis
    /// Series drawn, in order.
    public var series: [BarSeries]
    /// Drawn as a dashed horizontal line (e.g. the count every mode would get if all were captured).
    public var idealValue: Double?
    /// Legend text of the ideal line.
    public var idealLabel: String
    var showsLegend = true
    var plotInsets = PlotInsets()

    /// Creates a bar chart; several series are drawn side by side within each category.
    public init(title: String, categories: [String], x: Axis = Axis(""), y: Axis, series: [BarSeries],
                idealValue: Double? = nil, idealLabel: String = "ideal (uniform)") {
        self.title = title
        self.categories = categories
        self.x = x
        self.y = y
        self.series = series
        self.idealValue = idealValue
        self.idealLabel = idealLabel
    }

    /// One entry per named series, then the ideal line's.
    var legendEntries: [LegendEntry] {
        var entries = series.filter { !$0.name.isEmpty }.map { LegendEntry(name: $0.name, color: $0.color, style: .area) }
        if idealValue != nil { entries.append(LegendEntry(name: idealLabel, color: Theme.text, style: .line(dashed: true))) }
        return entries
    }

    /// Draws the chart into `rectangle` of `canvas`.
    public func draw(on canvas: Canvas, in rectangle: Rectangle) {
        var skipped = SkipCounter()
        skipped.nonFinite = series.map { $0.values.prefix(categories.count).filter { !$0.isFinite }.count }.reduce(0, +)
        let legend = showsLegend ? legendEntries : []
        let values = series.flatMap { $0.values.prefix(categories.count).filter { $0.isFinite } }
        var yAxis = y
        if yAxis.domain == nil, !yAxis.logScale {
            yAxis.domain = Scale.countDomain(y, values: values + [idealValue ?? 0].filter { $0.isFinite })
        }
        let frame = PlotFrame(title: title, x: x, y: yAxis, secondaryY: nil, xValues: [], yValues: [], legend: legend,
                              notes: skipped.notes, xCategories: categories, minimumInsets: plotInsets)
        frame.draw(on: canvas, in: rectangle) { area in
            let groupWidth = 0.8, barWidth = groupWidth / Double(max(series.count, 1))
            for (seriesIndex, item) in series.enumerated() {
                for (index, value) in item.values.prefix(categories.count).enumerated() where area.y.accepts(value) {
                    let left = Double(index) - groupWidth / 2 + Double(seriesIndex) * barWidth
                    let x0 = area.pixelX(left), x1 = area.pixelX(left + barWidth)
                    let base = area.pixelY(yAxis.logScale ? area.y.lower : 0), top = area.pixelY(value)
                    canvas.fill(Rectangle(x: x0, y: min(top, base), width: x1 - x0, height: abs(base - top)),
                                color: item.color)
                    if let errors = item.errors, index < errors.count, errors[index].isFinite, errors[index] > 0 {
                        // A whisker at ± error, clamped to the axis, with short caps.
                        let low = area.pixelY(max(value - errors[index], area.y.lower))
                        let high = area.pixelY(min(value + errors[index], area.y.upper))
                        let middle = (x0 + x1) / 2, cap = min((x1 - x0) * 0.25, canvas.unit * 0.4)
                        let width = max(canvas.unit * 0.1, 1.2)
                        canvas.line(from: (middle, low), to: (middle, high), color: Theme.text, width: width)
                        canvas.line(from: (middle - cap, low), to: (middle + cap, low), color: Theme.text, width: width)
                        canvas.line(from: (middle - cap, high), to: (middle + cap, high), color: Theme.text, width: width)
                    }
                }
            }
            if let idealValue, area.y.accepts(idealValue) {
                let py = area.pixelY(idealValue)
                canvas.line(from: (area.rectangle.x, py), to: (area.rectangle.maxX, py), color: Theme.text,
                            width: max(canvas.unit * 0.12, 1.5), dashes: [canvas.unit * 0.5, canvas.unit * 0.3])
            }
        }
    }
}
