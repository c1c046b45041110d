import CCairo
import Foundation

/// Something that draws itself into a rectangle of a Cairo context.
public protocol Chart {
    /// Draws the chart into `rectangle` of `canvas`.
    func draw(on canvas: Canvas, in rectangle: Rectangle)
}

/// The file formats a chart can be written as.
public enum ImageFormat: String, CaseIterable, Sendable {
    case png, svg, pdf

    /// Parses a format name such as "png", or throws an error listing the known names.
    public static func named(_ name: String) throws -> ImageFormat {
        guard let format = ImageFormat(rawValue: name.lowercased()) else {
            let known = allCases.map(\.rawValue).joined(separator: ", ")
            throw ChartError("unknown image format '\(name)': choose one of \(known)")
        }
        return format
    }
}

/// Size, pixel density and format of a rendered figure.
public struct RenderOptions: Sendable {
    /// Logical width and height; PNG pixels are these times `scale`, SVG/PDF points are these.
    public var width: Int
    /// Height in pixels.
    public var height: Int
    /// Pixel density of PNG output (2 for projectors and retina screens).
    public var scale: Double
    /// File format.
    public var format: ImageFormat

    /// Creates render options; sizes are clamped to at least 64 units.
    public init(width: Int = 1600, height: Int = 1200, scale: Double = 1, format: ImageFormat = .png) {
        self.width = max(width, 64)
        self.height = max(height, 64)
        self.scale = scale.isFinite && scale > 0 ? min(scale, 8) : 1
        self.format = format
    }
}

/// A failure to write a chart, with a one-line message naming the path and what to do.
public struct ChartError: Error, CustomStringConvertible, Sendable {
    /// The one-line message.
    public let message: String
    /// Creates an error with a one-line message.
    public init(_ message: String) { self.message = message }
    /// One line: name, best and median time.
    public var description: String { message }
}

/// Renders `chart` to `path` atomically: a temporary file in the same folder, then a rename.
public func render(_ chart: some Chart, to path: String, options: RenderOptions = RenderOptions()) throws {
    let file = try AtomicFile(destination: path)
    do {
        try drawToFile(chart, path: file.temporaryPath, options: options)
        try file.commit()
    } catch {
        file.discard()
        throw error
    }
}

/// Draws a chart on a fresh white canvas of the options' size; returns the canvas used.
@discardableResult
func draw(_ chart: some Chart, on context: OpaquePointer, options: RenderOptions) -> Canvas {
    let width = Double(options.width), height = Double(options.height)
    let canvas = Canvas(context: context, unit: Canvas.unit(width: width, height: height))
    canvas.fill(Rectangle(x: 0, y: 0, width: width, height: height), color: Theme.background)
    chart.draw(on: canvas, in: Rectangle(x: 0, y: 0, width: width, height: height))
    return canvas
}

/// The plot areas a chart lays out at the given options (for tests that look up where data lands).
func layoutAreas(of chart: some Chart, options: RenderOptions) -> [PlotArea] {
    let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1)!
    let context = cairo_create(surface)!
    let canvas = draw(chart, on: context, options: options)
    cairo_destroy(context)
    cairo_surface_destroy(surface)
    return canvas.plotAreas
}

/// Renders a chart into a new ARGB32 image surface (caller destroys it).
func renderImage(_ chart: some Chart, options: RenderOptions) -> OpaquePointer {
    let pixelWidth = Int32((Double(options.width) * options.scale).rounded())
    let pixelHeight = Int32((Double(options.height) * options.scale).rounded())
    let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, pixelWidth, pixelHeight)!
    let context = cairo_create(surface)!
    cairo_scale(context, options.scale, options.scale)
    draw(chart, on: context, options: options)
    cairo_destroy(context)
    cairo_surface_flush(surface)
    return surface
}

private func drawToFile(_ chart: some Chart, path: String, options: RenderOptions) throws {
    let width = Double(options.width), height = Double(options.height)
    let surface: OpaquePointer
    switch options.format {
    case .png:
        surface = renderImage(chart, options: options)
        defer { cairo_surface_destroy(surface) }
        let png = try PNGEncoder.encode(surface)
        guard FileManager.default.createFile(atPath: path, contents: png) else {
            throw ChartError("cannot write chart file \(path); check the disk space and permissions")
        }
        return
    case .svg:
        surface = cairo_svg_surface_create(path, width, height)
        cairo_svg_surface_restrict_to_version(surface, CAIRO_SVG_VERSION_1_1)
    case .pdf:
        surface = cairo_pdf_surface_create(path, width, height)
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "gan-lab")
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE, "2000-01-01T00:00:00Z")
    }
    defer { cairo_surface_destroy(surface) }
    try check(cairo_surface_status(surface), path: path)
    let context = cairo_create(surface)!
    draw(chart, on: context, options: options)
    cairo_show_page(context)
    let contextStatus = cairo_status(context)
    cairo_destroy(context)
    cairo_surface_finish(surface)
    try check(contextStatus, path: path)
    try check(cairo_surface_status(surface), path: path)
}

private func check(_ status: cairo_status_t, path: String) throws {
    guard status == CAIRO_STATUS_SUCCESS else {
        let reason = String(cString: cairo_status_to_string(status))
        throw ChartError("cannot write chart file \(path): \(reason); check the disk space and permissions")
    }
}

/// A destination written through a temporary sibling file and a rename.
struct AtomicFile {
    let destination: String
    let temporaryPath: String

    init(destination: String) throws {
        let url = URL(fileURLWithPath: destination)
        let folder = url.deletingLastPathComponent().path
        let manager = FileManager.default
        var isFolder: ObjCBool = false
        if destination.isEmpty || destination.hasSuffix("/") {
            throw ChartError("cannot write chart to '\(destination)': give a file name such as figure.png")
        }
        guard manager.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw ChartError("cannot write chart to \(destination): folder \(folder) does not exist; create it first")
        }
        if manager.fileExists(atPath: destination, isDirectory: &isFolder), isFolder.boolValue {
            throw ChartError("cannot write chart to \(destination): it is a folder; give a file name inside it")
        }
        guard access(folder, W_OK) == 0 else {
            throw ChartError("cannot write chart to \(destination): folder \(folder) is not writable; choose another folder")
        }
        self.destination = destination
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        temporaryPath = folder + "/." + url.lastPathComponent + ".partial-\(getpid())-" + suffix
    }

    func commit() throws {
        guard rename(temporaryPath, destination) == 0 else {
            let reason = String(cString: strerror(errno))
            throw ChartError("cannot write chart to \(destination): \(reason); check the folder's permissions")
        }
    }

    func discard() {
        unlink(temporaryPath)
    }
}
