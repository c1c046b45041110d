import CCairo
import Foundation
import XCTest
@testable import Charts

/// A PNG read back through Cairo, with its pixels unpremultiplied to 0…255 RGB.
struct PixelImage {
    let width: Int
    let height: Int
    private let pixels: [UInt32]

    init(path: String) throws {
        guard let surface = cairo_image_surface_create_from_png(path),
              cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS else {
            throw ChartError("cannot read PNG \(path)")
        }
        defer { cairo_surface_destroy(surface) }
        cairo_surface_flush(surface)
        width = Int(cairo_image_surface_get_width(surface))
        height = Int(cairo_image_surface_get_height(surface))
        let stride = Int(cairo_image_surface_get_stride(surface))
        let data = cairo_image_surface_get_data(surface)!
        var pixels = [UInt32](repeating: 0, count: width * height)
        for row in 0..<height {
            let rowPointer = UnsafeRawPointer(data + row * stride).assumingMemoryBound(to: UInt32.self)
            for column in 0..<width { pixels[row * width + column] = rowPointer[column] }
        }
        self.pixels = pixels
    }

    /// (red, green, blue) at a pixel.
    func rgb(_ x: Int, _ y: Int) -> (Int, Int, Int) {
        let value = pixels[y * width + x]
        return (Int((value >> 16) & 0xFF), Int((value >> 8) & 0xFF), Int(value & 0xFF))
    }

    /// Whether any pixel within `radius` of (x, y) is within `tolerance` of `color`.
    func hasColor(_ color: Color, near x: Int, _ y: Int, radius: Int = 2, tolerance: Int = 40) -> Bool {
        let target = (Int(color.red * 255), Int(color.green * 255), Int(color.blue * 255))
        for row in max(0, y - radius)...min(height - 1, y + radius) {
            for column in max(0, x - radius)...min(width - 1, x + radius) {
                let (r, g, b) = rgb(column, row)
                if abs(r - target.0) + abs(g - target.1) + abs(b - target.2) <= tolerance { return true }
            }
        }
        return false
    }

    /// Number of pixels within `tolerance` of `color` inside a region (the whole image by default).
    func count(_ color: Color, tolerance: Int = 40, in region: (x: Range<Int>, y: Range<Int>)? = nil) -> Int {
        let target = (Int(color.red * 255), Int(color.green * 255), Int(color.blue * 255))
        let xs = region?.x ?? 0..<width, ys = region?.y ?? 0..<height
        var total = 0
        for row in ys { for column in xs {
            let (r, g, b) = rgb(column, row)
            if abs(r - target.0) + abs(g - target.1) + abs(b - target.2) <= tolerance { total += 1 }
        } }
        return total
    }

    /// Number of inked (text-like, darker than the grid lines) pixels inside a region.
    func darkPixels(x: Range<Int>, y: Range<Int>) -> Int {
        var total = 0
        for row in y { for column in x {
            let (r, g, b) = rgb(column, row)
            if r + g + b < 560 { total += 1 }
        } }
        return total
    }

    /// Number of pixels that are not white.
    var nonWhitePixels: Int { pixels.filter { $0 & 0xFFFFFF != 0xFFFFFF }.count }
}

/// A fresh temporary folder for one test, removed afterwards.
func makeTemporaryFolder(_ testCase: XCTestCase) throws -> String {
    let folder = NSTemporaryDirectory() + "charts-test-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    testCase.addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
    return folder
}

/// Renders a chart small and reads it back.
func renderAndRead(_ chart: some Chart, in folder: String, name: String = "chart.png",
                   width: Int = 400, height: Int = 300) throws -> PixelImage {
    let path = folder + "/" + name
    try render(chart, to: path, options: RenderOptions(width: width, height: height))
    return try PixelImage(path: path)
}
