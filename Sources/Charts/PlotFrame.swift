import CCairo
import Foundation

/// How a legend entry is drawn.
enum LegendStyle { case point(MarkerShape), line(dashed: Bool), area, arrow }

/// One entry of a legend.
struct LegendEntry {
    var name: String
    var color: Color
    var style: LegendStyle
}

/// The resolved plotting area of a chart: its rectangle and the scales mapping data into it.
struct PlotArea {
    let rectangle: Rectangle
    let x: Scale
    let y: Scale
    let secondaryY: Scale?

    func pixelX(_ value: Double) -> Double { rectangle.x + x.fraction(value) * rectangle.width }
    func pixelY(_ value: Double, secondary: Bool = false) -> Double {
        let scale = secondary ? (secondaryY ?? y) : y
        return rectangle.maxY - scale.fraction(value) * rectangle.height
    }
    func point(_ xValue: Double, _ yValue: Double, secondary: Bool = false) -> (Double, Double) {
        (pixelX(xValue), pixelY(yValue, secondary: secondary))
    }
    /// Pixels per data unit along x and y (linear scales).
    var pixelsPerUnit: (x: Double, y: Double) {
        (rectangle.width / x.span, rectangle.height / y.span)
    }
}

/// Title, legend, axes, grid and notes around a data area: the frame every 2-D chart shares.
struct PlotFrame {
    var title: String
    var x: Axis
    var y: Axis
    var secondaryY: Axis?
    var xValues: [Double]
    var yValues: [Double]
    var secondaryValues: [Double] = []
    var legend: [LegendEntry] = []
    var notes: [String] = []
    var equalAspect = false
    /// Fraction of the data span added around automatic ranges (for markers with extent).
    var domainPadding = 0.0
    /// Extra room kept free right of the plot (for a colour bar).
    var rightReserve: Double = 0
    /// Room kept free below the plot (for a caption), drawn by the caller.
    var bottomReserve: Double = 0
    /// Category names placed at x = 0, 1, 2, … instead of numeric ticks (bar charts).
    var xCategories: [String]? = nil
    /// Title size relative to the theme's title size (panels of a larger figure use smaller titles).
    var titleScale: Double = 1
    /// The least room between the bounds and the plot on each side: the panels of a figure line
    /// up their plots with it (see `aligningPlots`).
    var minimumInsets = PlotInsets()

    /// Lays out and draws the frame, calls `content` clipped to the data area, and returns that area.
    @discardableResult
    func draw(on canvas: Canvas, in bounds: Rectangle, content: (PlotArea) -> Void) -> PlotArea {
        let unit = canvas.unit, padding = canvas.padding
        var top = bounds.y + padding
        if !title.isEmpty {
            top += canvas.textBlock(title, centerX: bounds.midX, top: top, width: bounds.width - 2 * padding,
                                    size: canvas.titleSize * titleScale, bold: true) + unit * 0.3
        }
        if !legend.isEmpty {
            top += drawLegend(on: canvas, centerX: bounds.midX, top: top, width: bounds.width - 2 * padding)
                + unit * 0.3
        }
        var xScale = Scale(axis: x, values: xValues, padding: domainPadding)
        if let xCategories {
            var categoryAxis = x
            categoryAxis.domain = -0.5...(Double(max(xCategories.count, 1)) - 0.5)
            categoryAxis.logScale = false
            xScale = Scale(axis: categoryAxis, values: [])
            xScale.ticks = xCategories.indices.map(Double.init)
            xScale.tickLabels = xCategories
        }
        let yScale = Scale(axis: y, values: yValues, padding: domainPadding)
        let secondaryScale = secondaryY.map { Scale(axis: $0, values: secondaryValues) }

        canvas.setFont(size: canvas.tickSize)
        let yTickWidth = yScale.tickLabels.map(canvas.textWidth).max() ?? 0
        let secondaryTickWidth = secondaryScale.map { $0.tickLabels.map(canvas.textWidth).max() ?? 0 } ?? 0
        let lastXTickWidth = xScale.tickLabels.last.map(canvas.textWidth) ?? 0
        let tickGap = unit * 0.45
        let labelBand = canvas.labelSize * 1.4

        var left = bounds.x + padding + yTickWidth + tickGap
        if !y.label.isEmpty { left += labelBand }
        var right = bounds.maxX - padding - rightReserve
        if let secondaryY {
            right -= secondaryTickWidth + tickGap + (secondaryY.label.isEmpty ? 0 : labelBand)
        } else {
            right -= lastXTickWidth / 2
        }
        left = max(left, bounds.x + minimumInsets.left)
        right = min(right, bounds.maxX - minimumInsets.right)
        // Category names too wide for one row alternate between two rows rather than being dropped.
        let categorySpacing = (right - left) / Double(max(xCategories?.count ?? 1, 1))
        let widestCategory = xCategories == nil ? 0 : xScale.tickLabels.map(canvas.textWidth).max() ?? 0
        let staggered = xCategories != nil && widestCategory + unit * 0.8 > categorySpacing
            && widestCategory + unit * 0.8 <= 2 * categorySpacing
        var bottom = bounds.maxY - padding - bottomReserve - canvas.tickSize * (staggered ? 2.4 : 1.2) - tickGap
        if !x.label.isEmpty { bottom -= labelBand }
        if !notes.isEmpty { bottom -= canvas.noteSize * 1.4 }
        top = max(top + canvas.tickSize * 0.6, bounds.y + minimumInsets.top)
        bottom = min(bottom, bounds.maxY - minimumInsets.bottom)
        var plot = Rectangle(x: left, y: top, width: max(right - left, 1), height: max(bottom - top, 1))
        if equalAspect && !x.logScale && !y.logScale {
            let unitsPerPixel = max(xScale.span / plot.width, yScale.span / plot.height)
            let width = xScale.span / unitsPerPixel, height = yScale.span / unitsPerPixel
            plot = Rectangle(x: plot.x + (plot.width - width) / 2, y: plot.y + (plot.height - height) / 2,
                             width: width, height: height)
        }
        let area = PlotArea(rectangle: plot, x: xScale, y: yScale, secondaryY: secondaryScale)

        canvas.plotAreas.append(area)
        drawGrid(on: canvas, area: area)
        canvas.save()
        canvas.clip(to: plot)
        content(area)
        canvas.restore()
        drawAxes(on: canvas, area: area, tickGap: tickGap, bounds: bounds, staggered: staggered)
        if !notes.isEmpty {
            let noteTop = bounds.maxY - padding - bottomReserve - canvas.noteSize * 1.2
            canvas.text(notes.joined(separator: " · "), x: bounds.maxX - padding, top: noteTop,
                        size: canvas.noteSize, color: Theme.mutedText, alignment: .right)
        }
        return area
    }

    private func drawGrid(on canvas: Canvas, area: PlotArea) {
        let plot = area.rectangle, width = max(canvas.lineWidth * 0.8, 0.5)
        for tick in area.x.ticks where xCategories == nil {
            let px = area.pixelX(tick)
            canvas.line(from: (px, plot.y), to: (px, plot.maxY), color: Theme.grid, width: width)
        }
        for tick in area.y.ticks {
            let py = area.pixelY(tick)
            canvas.line(from: (plot.x, py), to: (plot.maxX, py), color: Theme.grid, width: width)
        }
    }

    private func drawAxes(on canvas: Canvas, area: PlotArea, tickGap: Double, bounds: Rectangle, staggered: Bool) {
        let plot = area.rectangle, unit = canvas.unit, width = canvas.lineWidth
        let tickLength = unit * 0.25
        canvas.line(from: (plot.x, plot.maxY), to: (plot.maxX, plot.maxY), color: Theme.axisLine, width: width)
        canvas.line(from: (plot.x, plot.y), to: (plot.x, plot.maxY), color: Theme.axisLine, width: width)
        if area.secondaryY != nil {
            canvas.line(from: (plot.maxX, plot.y), to: (plot.maxX, plot.maxY), color: Theme.axisLine, width: width)
        }
        // X ticks, thinned when labels would collide.
        canvas.setFont(size: canvas.tickSize)
        let widest = area.x.tickLabels.map(canvas.textWidth).max() ?? 0
        let positions = area.x.ticks.map(area.pixelX)
        let spacing = zip(positions.dropFirst(), positions).map { abs($0 - $1) }.min() ?? plot.width
        let every = staggered ? 1 : max(1, Int(ceil((widest + unit * 0.8) / max(spacing, 1))))
        for (index, tick) in area.x.ticks.enumerated() {
            let px = area.pixelX(tick)
            let lower = staggered && index % 2 == 1
            canvas.line(from: (px, plot.maxY), to: (px, plot.maxY + tickLength), color: Theme.axisLine, width: width)
            if index % every == 0 {
                canvas.text(area.x.tickLabels[index], x: px, top: plot.maxY + tickGap + (lower ? canvas.tickSize * 1.2 : 0),
                            size: canvas.tickSize, alignment: .center)
            }
        }
        drawVerticalTicks(on: canvas, scale: area.y, area: area, atRight: false, tickGap: tickGap)
        if let secondary = area.secondaryY {
            drawVerticalTicks(on: canvas, scale: secondary, area: area, atRight: true, tickGap: tickGap)
        }
        // Axis labels.
        let labelSize = canvas.labelSize
        if !x.label.isEmpty {
            canvas.text(x.label, x: plot.midX, top: plot.maxY + tickGap + canvas.tickSize * (staggered ? 2.4 : 1.2) + unit * 0.25,
                        size: labelSize, alignment: .center)
        }
        if !y.label.isEmpty {
            let yTickWidth = area.y.tickLabels.map(canvas.textWidthAtTickSize).max() ?? 0
            canvas.verticalText(y.label, centerX: plot.x - tickGap - yTickWidth - labelSize * 0.75,
                                centerY: plot.midY, size: labelSize)
        }
        if let secondaryY, let secondary = area.secondaryY, !secondaryY.label.isEmpty {
            let tickWidth = secondary.tickLabels.map(canvas.textWidthAtTickSize).max() ?? 0
            canvas.verticalText(secondaryY.label, centerX: plot.maxX + tickGap + tickWidth + labelSize * 0.75,
                                centerY: plot.midY, size: labelSize)
        }
    }

    private func drawVerticalTicks(on canvas: Canvas, scale: Scale, area: PlotArea, atRight: Bool, tickGap: Double) {
        let plot = area.rectangle, tickLength = canvas.unit * 0.25
        let edge = atRight ? plot.maxX : plot.x
        let direction: Double = atRight ? 1 : -1
        for (index, tick) in scale.ticks.enumerated() {
            let py = plot.maxY - scale.fraction(tick) * plot.height
            canvas.line(from: (edge, py), to: (edge + direction * tickLength, py), color: Theme.axisLine,
                        width: canvas.lineWidth)
            canvas.text(scale.tickLabels[index], x: edge + direction * tickGap, top: py - canvas.tickSize * 0.6,
                        size: canvas.tickSize, alignment: atRight ? .left : .right)
        }
    }

    /// Draws the legend in centred rows; returns the height used.
    func drawLegend(on canvas: Canvas, centerX: Double, top: Double, width: Double) -> Double {
        let size = canvas.unit * 0.95, swatch = canvas.unit * 1.4, gap = canvas.unit * 0.4
        let spacing = canvas.unit * 1.3
        canvas.setFont(size: size)
        let widths = legend.map { swatch + gap + canvas.textWidth($0.name) }
        var rows: [[Int]] = [[]]
        var rowWidth = 0.0
        for (index, entryWidth) in widths.enumerated() {
            let needed = rows[rows.count - 1].isEmpty ? entryWidth : rowWidth + spacing + entryWidth
            if needed > width && !rows[rows.count - 1].isEmpty {
                rows.append([index])
                rowWidth = entryWidth
            } else {
                rows[rows.count - 1].append(index)
                rowWidth = needed
            }
        }
        let rowHeight = size * 1.45
        for (rowIndex, row) in rows.enumerated() {
            let total = row.map { widths[$0] }.reduce(0, +) + spacing * Double(max(row.count - 1, 0))
            var cursor = centerX - total / 2
            let rowTop = top + Double(rowIndex) * rowHeight
            let middle = rowTop + rowHeight / 2
            for index in row {
                let entry = legend[index]
                switch entry.style {
                case .point(let shape):
                    canvas.marker(shape, x: cursor + swatch / 2, y: middle, size: size * 0.7, color: entry.color.withAlpha(1))
                case .line(let dashed):
                    canvas.line(from: (cursor, middle), to: (cursor + swatch, middle), color: entry.color.withAlpha(1),
                                width: canvas.unit * 0.16, dashes: dashed ? [canvas.unit * 0.35, canvas.unit * 0.2] : [])
                case .area:
                    canvas.fill(Rectangle(x: cursor + swatch * 0.15, y: middle - size * 0.4, width: swatch * 0.7,
                                          height: size * 0.8), color: entry.color)
                case .arrow:
                    canvas.arrow(from: (cursor, middle), to: (cursor + swatch, middle), color: entry.color.withAlpha(1),
                                 width: canvas.unit * 0.12, headLength: size * 0.55)
                }
                canvas.text(entry.name, x: cursor + swatch + gap, top: middle - size * 0.62, size: size)
                cursor += widths[index] + spacing
            }
        }
        return Double(rows.count) * rowHeight
    }
}

extension Canvas {
    func textWidthAtTickSize(_ text: String) -> Double {
        setFont(size: tickSize)
        return textWidth(text)
    }
}

/// Counts values a chart had to skip and phrases the note shown on the chart.
struct SkipCounter {
    var nonFinite = 0
    var nonPositive = 0

    var notes: [String] {
        var notes: [String] = []
        if nonFinite > 0 { notes.append("\(nonFinite) NaN/∞ value\(nonFinite == 1 ? "" : "s") skipped") }
        if nonPositive > 0 { notes.append("\(nonPositive) value\(nonPositive == 1 ? "" : "s") ≤ 0 skipped on log axis") }
        return notes
    }
}

/// Room between a chart's bounds and its plot, side by side.
struct PlotInsets: Equatable {
    var left = 0.0, right = 0.0, top = 0.0, bottom = 0.0
}
