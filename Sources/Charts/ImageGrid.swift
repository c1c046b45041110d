import CCairo

/// The range pixel values come in.
public enum PixelRange: Sendable {
    /// Generator output after tanh.
    case minusOneToOne
    case zeroToOne
}

/// One grayscale or RGB image; RGB is planar (all red, then green, then blue), as in NCHW tensors.
public struct GridImage: Sendable {
    /// Pixel values, channel planes one after another.
    public var pixels: [Float]
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int
    /// 1 (grayscale) or 3 (RGB).
    public var channels: Int

    /// Creates an image from `channels × height × width` values.
    public init(pixels: [Float], width: Int, height: Int, channels: Int = 1) {
        self.pixels = pixels
        self.width = width
        self.height = height
        self.channels = channels
    }

    var isValid: Bool {
        width > 0 && height > 0 && (channels == 1 || channels == 3) && pixels.count >= width * height * channels
    }
}

/// N × M images with thin separators, nearest-neighbour upscaling and optional row/column labels.
public struct ImageGridChart: Chart {
    /// Title above the chart (wraps or shrinks to fit).
    public var title: String
    /// Images, filling rows from the top left.
    public var images: [GridImage]
    /// Number of grid columns.
    public var columns: Int
    /// Range of the pixel values.
    public var pixelRange: PixelRange
    /// Labels left of each row.
    public var rowLabels: [String]
    /// Labels above each column.
    public var columnLabels: [String]

    /// Creates an image grid; images fill rows of `columns` from the top left.
    public init(title: String, images: [GridImage], columns: Int, pixelRange: PixelRange = .minusOneToOne,
                rowLabels: [String] = [], columnLabels: [String] = []) {
        self.title = title
        self.images = images
        self.columns = max(columns, 1)
        self.pixelRange = pixelRange
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
    }

    var rows: Int { max((images.count + columns - 1) / columns, 1) }

    /// Where each cell lands for a given drawing rectangle (also used by tests).
    func cellRectangles(on canvas: Canvas, in rectangle: Rectangle) -> (cells: [Rectangle], titleHeight: Double) {
        let padding = canvas.padding
        let (titleLines, titleSize) = title.isEmpty ? ([], 0.0)
            : canvas.wrapped(title, width: rectangle.width - 2 * padding, size: canvas.titleSize, bold: true)
        let titleHeight = Double(titleLines.count) * titleSize * 1.2 + (title.isEmpty ? 0 : canvas.unit * 0.4)
        canvas.setFont(size: canvas.labelSize)
        let rowLabelWidth = rowLabels.isEmpty ? 0 : (rowLabels.map(canvas.textWidth).max() ?? 0) + canvas.unit * 0.5
        let columnLabelHeight = columnLabels.isEmpty ? 0 : canvas.labelSize * 1.4
        let available = Rectangle(x: rectangle.x + padding + rowLabelWidth,
                                  y: rectangle.y + padding + titleHeight + columnLabelHeight,
                                  width: rectangle.width - 2 * padding - rowLabelWidth,
                                  height: rectangle.height - 2 * padding - titleHeight - columnLabelHeight)
        let aspect = images.first.map { Double($0.width) / Double(max($0.height, 1)) } ?? 1
        let gap = max(canvas.unit * 0.12, 1)
        let cellWidth = min((available.width - gap * Double(columns - 1)) / Double(columns),
                            (available.height - gap * Double(rows - 1)) / Double(rows) * aspect)
        let cellHeight = cellWidth / aspect
        let gridWidth = cellWidth * Double(columns) + gap * Double(columns - 1)
        let gridHeight = cellHeight * Double(rows) + gap * Double(rows - 1)
        let left = available.x + (available.width - gridWidth) / 2
        let top = available.y + max(0, (available.height - gridHeight) / 2)
        var cells: [Rectangle] = []
        for index in 0..<(rows * columns) {
            let row = index / columns, column = index % columns
            cells.append(Rectangle(x: left + Double(column) * (cellWidth + gap), y: top + Double(row) * (cellHeight + gap),
                                   width: max(cellWidth, 1), height: max(cellHeight, 1)))
        }
        return (cells, titleHeight)
    }

    /// Draws the chart into `rectangle` of `canvas`.
    public func draw(on canvas: Canvas, in rectangle: Rectangle) {
        let (cells, _) = cellRectangles(on: canvas, in: rectangle)
        canvas.textBlock(title, centerX: rectangle.midX, top: rectangle.y + canvas.padding,
                         width: rectangle.width - 2 * canvas.padding, size: canvas.titleSize, bold: true)
        var invalid = 0
        for (index, cell) in cells.enumerated() {
            guard index < images.count, images[index].isValid else {
                canvas.fill(cell, color: Color(hex: 0xF2F2F2))
                if index < images.count { invalid += 1 }
                continue
            }
            paint(images[index], into: cell, on: canvas)
            // A hairline keeps light images apart from the page.
            canvas.strokeRectangle(cell.inset(by: -0.25), color: Color(hex: 0xBBBBBB), width: 0.5)
        }
        let labelSize = canvas.labelSize
        for (row, label) in rowLabels.prefix(rows).enumerated() {
            let cell = cells[row * columns]
            canvas.text(label, x: cell.x - canvas.unit * 0.4, top: cell.midY - labelSize * 0.6, size: labelSize,
                        alignment: .right)
        }
        for (column, label) in columnLabels.prefix(columns).enumerated() {
            let cell = cells[column]
            canvas.text(label, x: cell.midX, top: cell.y - labelSize * 1.3, size: labelSize, alignment: .center)
        }
        if invalid > 0 {
            canvas.text("\(invalid) image\(invalid == 1 ? "" : "s") with a wrong size skipped", x: rectangle.maxX - canvas.padding,
                        top: rectangle.maxY - canvas.padding - canvas.noteSize * 1.2, size: canvas.noteSize,
                        color: Theme.mutedText, alignment: .right)
        }
    }

    /// Converts one image to a Cairo surface and scales it into `cell` without smoothing.
    private func paint(_ image: GridImage, into cell: Rectangle, on canvas: Canvas) {
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(image.width), Int32(image.height)) else { return }
        defer { cairo_surface_destroy(surface) }
        cairo_surface_flush(surface)
        let stride = Int(cairo_image_surface_get_stride(surface))
        let data = cairo_image_surface_get_data(surface)!
        let plane = image.width * image.height
        func byte(_ value: Float) -> UInt32 {
            guard value.isFinite else { return 0 }
            let unit = pixelRange == .minusOneToOne ? (value + 1) / 2 : value
            return UInt32(max(0, min(255, (unit * 255).rounded())))
        }
        for row in 0..<image.height {
            let line = UnsafeMutableRawPointer(data + row * stride).assumingMemoryBound(to: UInt32.self)
            for column in 0..<image.width {
                let offset = row * image.width + column
                let red = byte(image.pixels[offset])
                let green = image.channels == 3 ? byte(image.pixels[plane + offset]) : red
                let blue = image.channels == 3 ? byte(image.pixels[2 * plane + offset]) : red
                line[column] = 0xFF00_0000 | red << 16 | green << 8 | blue
            }
        }
        cairo_surface_mark_dirty(surface)
        let context = canvas.context
        canvas.save()
        cairo_translate(context, cell.x, cell.y)
        cairo_scale(context, cell.width / Double(image.width), cell.height / Double(image.height))
        cairo_set_source_surface(context, surface, 0, 0)
        cairo_pattern_set_filter(cairo_get_source(context), CAIRO_FILTER_NEAREST)
        cairo_rectangle(context, 0, 0, Double(image.width), Double(image.height))
        cairo_fill(context)
        canvas.restore()
    }
}
