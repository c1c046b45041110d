import CCairo
import Foundation

/// A rectangle in drawing units (one unit is one pixel at scale 1).
public struct Rectangle: Equatable, Sendable {
    /// Top-left corner and size.
    public var x, y, width, height: Double

    /// Creates a rectangle from its top-left corner and size.
    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    var maxX: Double { x + width }
    var maxY: Double { y + height }
    var midX: Double { x + width / 2 }
    var midY: Double { y + height / 2 }

    func inset(by amount: Double) -> Rectangle {
        Rectangle(x: x + amount, y: y + amount,
                  width: max(width - 2 * amount, 0), height: max(height - 2 * amount, 0))
    }
}

/// Horizontal anchoring of a text line.
enum TextAlignment { case left, center, right }

/// A Cairo context plus the theme's sizes for one figure.
public final class Canvas {
    /// The underlying `cairo_t`.
    public let context: OpaquePointer
    /// Base text size in drawing units; every other size of the theme derives from it.
    public let unit: Double
    /// Plot areas laid out so far, in drawing order (tests read them to find where data lands).
    var plotAreas: [PlotArea] = []

    /// Wraps a Cairo context; `unit` is the base font size (about 2.8 % of the smaller figure side).
    public init(context: OpaquePointer, unit: Double) {
        self.context = context
        self.unit = unit
        cairo_set_antialias(context, CAIRO_ANTIALIAS_GOOD)
        let options = cairo_font_options_create()
        cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF)
        cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE)
        cairo_font_options_set_antialias(options, CAIRO_ANTIALIAS_GRAY)
        cairo_set_font_options(context, options)
        cairo_font_options_destroy(options)
    }

    /// The theme's base unit for a figure of the given size.
    static func unit(width: Double, height: Double) -> Double {
        max(9, min(width, height) * 0.028)
    }

    // Sizes of the theme, relative to `unit`.
    var titleSize: Double { unit * 1.3 }
    var labelSize: Double { unit * 1.05 }
    var tickSize: Double { unit * 0.9 }
    var noteSize: Double { unit * 0.75 }
    var lineWidth: Double { unit * 0.09 }
    var padding: Double { unit * 0.6 }

    // MARK: State

    func setColor(_ color: Color) {
        cairo_set_source_rgba(context, color.red, color.green, color.blue, color.alpha)
    }

    func save() { cairo_save(context) }
    func restore() { cairo_restore(context) }

    func clip(to rectangle: Rectangle) {
        cairo_rectangle(context, rectangle.x, rectangle.y, rectangle.width, rectangle.height)
        cairo_clip(context)
    }

    // MARK: Shapes

    func fill(_ rectangle: Rectangle, color: Color) {
        setColor(color)
        cairo_rectangle(context, rectangle.x, rectangle.y, rectangle.width, rectangle.height)
        cairo_fill(context)
    }

    func strokeRectangle(_ rectangle: Rectangle, color: Color, width: Double) {
        setColor(color)
        cairo_set_line_width(context, width)
        cairo_rectangle(context, rectangle.x, rectangle.y, rectangle.width, rectangle.height)
        cairo_stroke(context)
    }

    func line(from start: (Double, Double), to end: (Double, Double), color: Color, width: Double,
              dashes: [Double] = []) {
        setColor(color)
        cairo_set_line_width(context, width)
        setDashes(dashes)
        cairo_move_to(context, start.0, start.1)
        cairo_line_to(context, end.0, end.1)
        cairo_stroke(context)
        setDashes([])
    }

    func setDashes(_ dashes: [Double]) {
        dashes.withUnsafeBufferPointer { cairo_set_dash(context, $0.baseAddress, Int32($0.count), 0) }
    }

    func circle(x: Double, y: Double, radius: Double) {
        cairo_new_sub_path(context)
        cairo_arc(context, x, y, radius, 0, 2 * Double.pi)
    }

    /// Draws a marker for a legend or a centroid.
    func marker(_ shape: MarkerShape, x: Double, y: Double, size: Double, color: Color, outline: Color? = nil) {
        switch shape {
        case .circle: circle(x: x, y: y, radius: size / 2)
        case .square: cairo_rectangle(context, x - size / 2, y - size / 2, size, size)
        case .diamond:
            cairo_move_to(context, x, y - size * 0.65)
            cairo_line_to(context, x + size * 0.65, y)
            cairo_line_to(context, x, y + size * 0.65)
            cairo_line_to(context, x - size * 0.65, y)
            cairo_close_path(context)
        case .cross:
            let half = size / 2
            cairo_move_to(context, x - half, y - half); cairo_line_to(context, x + half, y + half)
            cairo_move_to(context, x - half, y + half); cairo_line_to(context, x + half, y - half)
            setColor(color)
            cairo_set_line_width(context, size * 0.28)
            cairo_stroke(context)
            return
        }
        setColor(color)
        if let outline {
            cairo_fill_preserve(context)
            setColor(outline)
            cairo_set_line_width(context, max(size * 0.14, 1))
            cairo_stroke(context)
        } else {
            cairo_fill(context)
        }
    }

    /// An arrow from start to end with a head that stays visible for short arrows.
    func arrow(from start: (Double, Double), to end: (Double, Double), color: Color, width: Double,
               headLength: Double) {
        let dx = end.0 - start.0, dy = end.1 - start.1
        let length = (dx * dx + dy * dy).squareRoot()
        guard length > 1e-9 else {
            marker(.circle, x: start.0, y: start.1, size: width * 2, color: color)
            return
        }
        let ux = dx / length, uy = dy / length
        let head = min(headLength, max(length * 0.6, headLength * 0.55))
        let baseX = end.0 - ux * head, baseY = end.1 - uy * head
        setColor(color)
        cairo_set_line_width(context, width)
        cairo_set_line_cap(context, CAIRO_LINE_CAP_ROUND)
        cairo_move_to(context, start.0, start.1)
        cairo_line_to(context, baseX + ux * head * 0.3, baseY + uy * head * 0.3)
        cairo_stroke(context)
        cairo_set_line_cap(context, CAIRO_LINE_CAP_BUTT)
        let halfWidth = head * 0.42
        cairo_move_to(context, end.0, end.1)
        cairo_line_to(context, baseX - uy * halfWidth, baseY + ux * halfWidth)
        cairo_line_to(context, baseX + uy * halfWidth, baseY - ux * halfWidth)
        cairo_close_path(context)
        cairo_fill(context)
    }

    // MARK: Text

    func setFont(size: Double, bold: Bool = false) {
        cairo_select_font_face(context, Theme.fontFamily, CAIRO_FONT_SLANT_NORMAL,
                               bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(context, size)
    }

    /// Advance width of `text` at the current font.
    func textWidth(_ text: String) -> Double {
        var extents = cairo_text_extents_t()
        cairo_text_extents(context, text, &extents)
        return extents.x_advance
    }

    /// Draws one line whose baseline-free box starts at `top` (the line is `size` × 1.2 tall).
    func text(_ text: String, x: Double, top: Double, size: Double, color: Color = Theme.text,
              alignment: TextAlignment = .left, bold: Bool = false) {
        setFont(size: size, bold: bold)
        let width = textWidth(text)
        let left: Double
        switch alignment {
        case .left: left = x
        case .center: left = x - width / 2
        case .right: left = x - width
        }
        setColor(color)
        cairo_move_to(context, left, top + size * 0.95)
        cairo_show_text(context, text)
        cairo_new_path(context)
    }

    /// Draws text rotated 90° counter-clockwise, centred on (x, y) and reading bottom to top.
    func verticalText(_ text: String, centerX: Double, centerY: Double, size: Double, color: Color = Theme.text) {
        save()
        cairo_translate(context, centerX, centerY)
        cairo_rotate(context, -Double.pi / 2)
        self.text(text, x: 0, top: -size * 0.6, size: size, color: color, alignment: .center)
        restore()
    }

    /// Splits `text` into lines no wider than `width`, shrinking the size when more than `maxLines`
    /// lines would be needed. Returns the lines and the size used.
    func wrapped(_ text: String, width: Double, size: Double, maxLines: Int = 2,
                 bold: Bool = false) -> (lines: [String], size: Double) {
        var size = size
        let words = text.split(separator: " ").map(String.init)
        while true {
            setFont(size: size, bold: bold)
            var lines = greedyLines(words, width: width)
            let fits = lines.count <= maxLines && lines.allSatisfy { textWidth($0) <= width }
            if fits || size <= unit * 0.5 {
                // Balance the lines: the narrowest width that still needs no more lines.
                if lines.count > 1 {
                    var low = 0.0, high = width
                    for _ in 0..<12 {
                        let middle = (low + high) / 2
                        if greedyLines(words, width: middle).count <= lines.count { high = middle } else { low = middle }
                    }
                    let balanced = greedyLines(words, width: high)
                    if balanced.count == lines.count { lines = balanced }
                }
                return (lines, size)
            }
            size *= 0.9
        }
    }

    /// Fills lines word by word up to `width` at the current font.
    private func greedyLines(_ words: [String], width: Double) -> [String] {
        var lines: [String] = []
        var current = ""
        for word in words {
            let candidate = current.isEmpty ? word : current + " " + word
            if textWidth(candidate) <= width || current.isEmpty {
                current = candidate
            } else {
                lines.append(current)
                current = word
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    /// Draws a wrapped block centred on `centerX` from `top`; returns its height.
    @discardableResult
    func textBlock(_ text: String, centerX: Double, top: Double, width: Double, size: Double,
                   maxLines: Int = 2, color: Color = Theme.text, bold: Bool = false) -> Double {
        guard !text.isEmpty else { return 0 }
        let (lines, used) = wrapped(text, width: width, size: size, maxLines: maxLines, bold: bold)
        for (index, line) in lines.enumerated() {
            self.text(line, x: centerX, top: top + Double(index) * used * 1.2, size: used, color: color,
                      alignment: .center, bold: bold)
        }
        return Double(lines.count) * used * 1.2
    }
}

/// Shapes of point markers.
public enum MarkerShape: Sendable { case circle, square, diamond, cross }
