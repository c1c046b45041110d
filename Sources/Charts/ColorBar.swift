import CCairo

/// A vertical colour scale with ticks, drawn right of a plot.
struct ColorBar {
    var label: String
    var colorMap: ColorMap
    var range: ClosedRange<Double>
    /// A value marked across the bar (the contour level).
    var marker: Double?

    private var scale: Scale { Scale(axis: Axis(label, domain: range), values: [], targetTickCount: 5) }

    /// Horizontal room the bar, its tick labels and its label need.
    func width(on canvas: Canvas) -> Double {
        canvas.setFont(size: canvas.tickSize)
        let tickWidth = scale.tickLabels.map(canvas.textWidth).max() ?? 0
        return canvas.unit * (1.0 + 0.9 + 0.45) + tickWidth + (label.isEmpty ? 0 : canvas.labelSize * 1.4)
    }

    func draw(on canvas: Canvas, beside plot: Rectangle) {
        let context = canvas.context, unit = canvas.unit
        let bar = Rectangle(x: plot.maxX + unit * 0.9, y: plot.y, width: unit * 1.0, height: plot.height)
        let gradient = cairo_pattern_create_linear(0, bar.maxY, 0, bar.y)!
        for (index, stop) in colorMap.stops.enumerated() {
            cairo_pattern_add_color_stop_rgb(gradient, Double(index) / Double(colorMap.stops.count - 1),
                                             stop.red, stop.green, stop.blue)
        }
        cairo_rectangle(context, bar.x, bar.y, bar.width, bar.height)
        cairo_set_source(context, gradient)
        cairo_fill(context)
        cairo_pattern_destroy(gradient)
        canvas.strokeRectangle(bar, color: Theme.axisLine, width: canvas.lineWidth)
        let scale = self.scale
        for (index, tick) in scale.ticks.enumerated() {
            let py = bar.maxY - scale.fraction(tick) * bar.height
            canvas.line(from: (bar.maxX, py), to: (bar.maxX + unit * 0.25, py), color: Theme.axisLine,
                        width: canvas.lineWidth)
            canvas.text(scale.tickLabels[index], x: bar.maxX + unit * 0.45, top: py - canvas.tickSize * 0.6,
                        size: canvas.tickSize)
        }
        if let marker, marker.isFinite, range.contains(marker) {
            let py = bar.maxY - scale.fraction(marker) * bar.height
            canvas.line(from: (bar.x, py), to: (bar.maxX, py), color: Theme.text, width: max(unit * 0.12, 1.5))
        }
        if !label.isEmpty {
            canvas.setFont(size: canvas.tickSize)
            let tickWidth = scale.tickLabels.map(canvas.textWidth).max() ?? 0
            // Never longer than the bar: a longer label would run into the legend above the plot.
            canvas.setFont(size: canvas.labelSize)
            let size = canvas.labelSize * min(1, bar.height / max(canvas.textWidth(label), 1))
            canvas.verticalText(label, centerX: bar.maxX + unit * 0.45 + tickWidth + canvas.labelSize * 0.75,
                                centerY: bar.midY, size: size)
        }
    }
}
