/// Any charts repeated in one figure (e.g. epochs of training), with shared axes so nothing jumps.
public struct SmallMultiplesChart: Chart {
    /// Title above the chart (wraps or shrinks to fit).
    public var title: String
    /// Charts drawn side by side, in order.
    public var panels: [any Chart]
    /// Panels per row (nil: as square a layout as the figure allows).
    public var columns: Int?
    /// Fix every automatic axis to the range covering all panels.
    public var shareAxes: Bool
    /// Draw one legend under the title instead of one per panel (when every panel allows it).
    public var shareLegend: Bool

    /// Creates a small-multiples figure; each panel keeps its own title (e.g. "epoch 10").
    public init(title: String, panels: [any Chart], columns: Int? = nil, shareAxes: Bool = true,
                shareLegend: Bool = true) {
        self.title = title
        self.panels = panels
        self.columns = columns
        self.shareAxes = shareAxes
        self.shareLegend = shareLegend
    }

    /// The number of columns used for `count` panels in a figure of the given shape.
    static func columnCount(for count: Int, width: Double, height: Double) -> Int {
        guard count > 1 else { return 1 }
        var best = 1, bestScore = -Double.infinity
        for columns in 1...count {
            let rows = (count + columns - 1) / columns
            let side = min(width / Double(columns), height / Double(rows))
            let score = side - Double(columns * rows - count) * 0.01
            if score > bestScore { best = columns; bestScore = score }
        }
        return best
    }

    /// Draws the chart into `rectangle` of `canvas`.
    public func draw(on canvas: Canvas, in rectangle: Rectangle) {
        let padding = canvas.padding
        var titleHeight = title.isEmpty ? 0 : canvas.textBlock(title, centerX: rectangle.midX, top: rectangle.y + padding,
                                                              width: rectangle.width - 2 * padding,
                                                              size: canvas.titleSize, bold: true) + canvas.unit * 0.2
        var charts = shareAxes ? sharingAxes(panels) : panels
        if shareLegend, let shared = sharingLegend(charts), !shared.entries.isEmpty {
            let legend = PlotFrame(title: "", x: Axis(""), y: Axis(""), secondaryY: nil, xValues: [], yValues: [],
                                   legend: shared.entries)
            titleHeight += legend.drawLegend(on: canvas, centerX: rectangle.midX, top: rectangle.y + padding + titleHeight,
                                             width: rectangle.width - 2 * padding) + canvas.unit * 0.2
            charts = shared.charts
        }
        let area = Rectangle(x: rectangle.x, y: rectangle.y + padding + titleHeight, width: rectangle.width,
                             height: rectangle.height - padding - titleHeight)
        guard !panels.isEmpty else {
            canvas.text("no panels", x: area.midX, top: area.midY, size: canvas.labelSize, color: Theme.mutedText,
                        alignment: .center)
            return
        }
        let columnCount = min(max(columns ?? Self.columnCount(for: panels.count, width: area.width, height: area.height), 1),
                              panels.count)
        let rowCount = (panels.count + columnCount - 1) / columnCount
        let panelWidth = area.width / Double(columnCount), panelHeight = area.height / Double(rowCount)
        // Text shrinks with the panels but stays readable: between half and the full base size.
        let shrink = min(max((panelWidth * panelHeight / (rectangle.width * rectangle.height)).squareRoot() * 2, 0.6), 1)
        let panelCanvas = Canvas(context: canvas.context, unit: canvas.unit * shrink)
        let cells = charts.indices.map { index in
            Rectangle(x: area.x + Double(index % columnCount) * panelWidth, y: area.y + Double(index / columnCount) * panelHeight,
                      width: panelWidth, height: panelHeight)
        }
        charts = aligningPlots(charts, cells: cells, column: { $0 % columnCount }, row: { $0 / columnCount }, unit: panelCanvas.unit)
        for (chart, cell) in zip(charts, cells) { chart.draw(on: panelCanvas, in: cell) }
        canvas.plotAreas += panelCanvas.plotAreas
    }
}
