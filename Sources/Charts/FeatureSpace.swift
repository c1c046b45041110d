import Foundation

/// Real and fake points of one moment (e.g. the discriminator's 2-D features before an update).
public struct FeatureSnapshot: Sendable, Codable {
    /// Coordinates of the real and the fake points.
    public var realXs, realYs, fakeXs, fakeYs: [Double]

    /// Creates a snapshot from the two point clouds.
    public init(realXs: [Double], realYs: [Double], fakeXs: [Double], fakeYs: [Double]) {
        self.realXs = realXs
        self.realYs = realYs
        self.fakeXs = fakeXs
        self.fakeYs = fakeYs
    }

    /// Mean of the finite points of the real cloud (nil when it has none).
    public var realCentroid: (x: Double, y: Double)? { Self.centroid(realXs, realYs) }
    /// Mean of the finite points of the fake cloud (nil when it has none).
    public var fakeCentroid: (x: Double, y: Double)? { Self.centroid(fakeXs, fakeYs) }

    static func centroid(_ xs: [Double], _ ys: [Double]) -> (x: Double, y: Double)? {
        // One pass, no key paths: lesson 3 asks for centroids at every step of its tutorial run.
        var (sumX, sumY, count) = (0.0, 0.0, 0)
        for (x, y) in zip(xs, ys) where x.isFinite && y.isFinite {
            sumX += x
            sumY += y
            count += 1
        }
        guard count > 0 else { return nil }
        return (sumX / Double(count), sumY / Double(count))
    }

    var distance: Double? {
        guard let real = realCentroid, let fake = fakeCentroid else { return nil }
        return ((real.x - fake.x) * (real.x - fake.x) + (real.y - fake.y) * (real.y - fake.y)).squareRoot()
    }
}

/// Two panels, before and after an update, with shared axes, centroids as large symbols,
/// an arrow from the old fake centroid to the new one, and the numbers in a caption.
public struct FeatureSpaceChart: Chart {
    /// Title above the chart (wraps or shrinks to fit).
    public var title: String
    /// Horizontal axis.
    public var x: Axis
    /// Vertical axis.
    public var y: Axis
    /// Points before the update.
    public var before: FeatureSnapshot
    /// Points after the update.
    public var after: FeatureSnapshot
    /// Title of the left panel.
    public var beforeTitle: String
    /// Title of the right panel.
    public var afterTitle: String
    /// Where a vertical dashed line marks the discriminator's decision boundary (nil: none), e.g. 0
    /// when the horizontal axis is D's logit.
    public var boundaryX: Double?

    /// Creates the before/after feature-space figure.
    public init(title: String, x: Axis, y: Axis, before: FeatureSnapshot, after: FeatureSnapshot,
                beforeTitle: String = "before the update", afterTitle: String = "after the update", boundaryX: Double? = nil) {
        self.title = title
        self.boundaryX = boundaryX
        self.x = x
        self.y = y
        self.before = before
        self.after = after
        self.beforeTitle = beforeTitle
        self.afterTitle = afterTitle
    }

    /// The caption: centroid coordinates, then the distance between the centroids, each to a
    /// thousandth of its axis's span (the finer axis's for distances), so that what the figure
    /// cannot show reads 0 and every number has as many decimals as its neighbours.
    public var caption: [String] {
        let (x, y) = sharedAxes()
        func decimals(_ axis: Axis) -> Int {
            guard let domain = axis.domain, domain.upperBound > domain.lowerBound else { return 3 }
            return min(max(Int(ceil(-log10((domain.upperBound - domain.lowerBound) / 1000))), 0), 6)
        }
        let (xDecimals, yDecimals) = (decimals(x), decimals(y))
        func point(_ value: (x: Double, y: Double)?) -> String {
            guard let value else { return "none" }
            return "(\(TickFormatter.fixed(value.x, decimals: xDecimals)), \(TickFormatter.fixed(value.y, decimals: yDecimals)))"
        }
        func distance(_ value: Double?) -> String {
            value.map { TickFormatter.fixed($0, decimals: max(xDecimals, yDecimals)) } ?? "none"
        }
        let fake = "fake centroid \(point(before.fakeCentroid)) → \(point(after.fakeCentroid))"
        let distances = "distance between the centroids \(distance(before.distance)) → \(distance(after.distance))"
        // The real centroid moves only when D changed; then both of its places are given, on a line of their own.
        guard point(before.realCentroid) == point(after.realCentroid) else {
            return ["real centroid \(point(before.realCentroid)) → \(point(after.realCentroid))", fake, distances]
        }
        return ["real centroid \(point(after.realCentroid)) · " + fake, distances]
    }

    /// Both panels' axes: automatic ranges fixed to cover both snapshots (and the boundary).
    private func sharedAxes() -> (x: Axis, y: Axis) {
        let panels = [before, after]
        return (sharedAxis(x, values: panels.flatMap { $0.realXs + $0.fakeXs } + (boundaryX.map { [$0] } ?? [])),
                sharedAxis(y, values: panels.flatMap { $0.realYs + $0.fakeYs }))
    }

    /// Draws the chart into `rectangle` of `canvas`.
    public func draw(on canvas: Canvas, in rectangle: Rectangle) {
        let padding = canvas.padding
        var top = rectangle.y + padding
        top += canvas.textBlock(title, centerX: rectangle.midX, top: top, width: rectangle.width - 2 * padding,
                                size: canvas.titleSize, bold: true) + canvas.unit * 0.3
        let legend = [LegendEntry(name: "real", color: Theme.real, style: .point(.circle)),
                      LegendEntry(name: "fake", color: Theme.fake, style: .point(.circle)),
                      LegendEntry(name: "centroids", color: Theme.text, style: .point(.diamond)),
                      LegendEntry(name: "fake centroid before", color: Theme.mutedText, style: .point(.cross))]
            + (boundaryX == nil ? [] : [LegendEntry(name: "D's decision boundary", color: Theme.mutedText, style: .line(dashed: true))])
        let legendFrame = PlotFrame(title: "", x: x, y: y, secondaryY: nil, xValues: [], yValues: [], legend: legend)
        top += legendFrame.drawLegend(on: canvas, centerX: rectangle.midX, top: top, width: rectangle.width - 2 * padding)
        var skipped = SkipCounter()
        for snapshot in [before, after] {
            ScatterSeries(name: "", xs: snapshot.realXs, ys: snapshot.realYs, color: Theme.real).count(skipped: &skipped, x: x, y: y)
            ScatterSeries(name: "", xs: snapshot.fakeXs, ys: snapshot.fakeYs, color: Theme.fake).count(skipped: &skipped, x: x, y: y)
        }
        let lines = caption + (skipped.notes.isEmpty ? [] : [skipped.notes.joined(separator: " · ")])
        let captionSize = canvas.noteSize * 1.2
        let captionHeight = captionSize * 1.25 * Double(lines.count) + padding
        let panelWidth = rectangle.width / 2
        let panels = [before, after]
        let names = [beforeTitle, afterTitle]
        let (sharedX, sharedY) = sharedAxes()
        for (index, snapshot) in panels.enumerated() {
            let bounds = Rectangle(x: rectangle.x + Double(index) * panelWidth, y: top, width: panelWidth,
                                   height: rectangle.maxY - top - captionHeight)
            drawPanel(snapshot, title: names[index], isAfter: index == 1, x: sharedX, y: sharedY,
                      on: canvas, in: bounds)
        }
        var lineTop = rectangle.maxY - captionHeight + padding * 0.2
        for (index, line) in lines.enumerated() {
            let (parts, size) = canvas.wrapped(line, width: rectangle.width - 2 * padding, size: captionSize, maxLines: 1)
            canvas.text(parts.joined(separator: " "), x: rectangle.midX, top: lineTop, size: size,
                        color: index < caption.count ? Theme.text : Theme.mutedText, alignment: .center)
            lineTop += captionSize * 1.25
        }
    }

    private func sharedAxis(_ axis: Axis, values: [Double]) -> Axis {
        guard axis.domain == nil else { return axis }
        let scale = Scale(axis: axis, values: values.filter { $0.isFinite }, padding: 0.03)
        var fixed = axis
        fixed.domain = scale.lower...scale.upper
        return fixed
    }

    private func drawPanel(_ snapshot: FeatureSnapshot, title: String, isAfter: Bool, x: Axis, y: Axis,
                           on canvas: Canvas, in bounds: Rectangle) {
        let real = ScatterSeries(name: "real", xs: snapshot.realXs, ys: snapshot.realYs, color: Theme.real, alpha: 0.45)
        let fake = ScatterSeries(name: "fake", xs: snapshot.fakeXs, ys: snapshot.fakeYs, color: Theme.fake, alpha: 0.45)
        let frame = PlotFrame(title: title, x: x, y: y, secondaryY: nil, xValues: [], yValues: [], titleScale: 0.8)
        frame.draw(on: canvas, in: bounds) { area in
            if let boundaryX {
                let (top, bottom) = (area.point(boundaryX, y.domain!.upperBound), area.point(boundaryX, y.domain!.lowerBound))
                canvas.line(from: top, to: bottom, color: Theme.mutedText, width: canvas.unit * 0.1, dashes: [canvas.unit * 0.5, canvas.unit * 0.35])
            }
            real.draw(on: canvas, area: area)
            fake.draw(on: canvas, area: area)
            let size = canvas.unit * 1.1
            if isAfter, let old = before.fakeCentroid, let new = snapshot.fakeCentroid {
                let start = area.point(old.x, old.y), end = area.point(new.x, new.y)
                canvas.marker(.cross, x: start.0, y: start.1, size: size * 0.8, color: Theme.mutedText)
                let length = hypot(end.0 - start.0, end.1 - start.1)
                if length > size * 0.9 {
                    let shorten = size * 0.75 / length
                    let tip = (end.0 - (end.0 - start.0) * shorten, end.1 - (end.1 - start.1) * shorten)
                    canvas.arrow(from: start, to: tip, color: Theme.text, width: canvas.unit * 0.12,
                                 headLength: canvas.unit * 0.7)
                }
            }
            for (centroid, color) in [(snapshot.realCentroid, Theme.real), (snapshot.fakeCentroid, Theme.fake)] {
                guard let centroid else { continue }
                let (px, py) = area.point(centroid.x, centroid.y)
                canvas.marker(.diamond, x: px, y: py, size: size, color: color, outline: Theme.text)
            }
        }
    }
}
