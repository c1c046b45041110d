import CCairo
import Foundation
import XCTest
@testable import Charts

final class GalleryTests: XCTestCase {
    /// Renders every chart kind. Set CHARTS_GALLERY_DIR to keep the files for looking at them; then
    /// column-width copies (480 pixels wide) and the first and last animation frames are written too.
    func testGalleryRendersEveryKind() throws {
        let kept = ProcessInfo.processInfo.environment["CHARTS_GALLERY_DIR"]
        let folder = try kept ?? makeTemporaryFolder(self)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let paths = try renderGallery(to: folder)
        XCTAssertGreaterThanOrEqual(paths.count, 14)
        for path in paths where path.hasSuffix(".png") {
            let image = try PixelImage(path: path)
            XCTAssertEqual(image.width, 1600, path)
            XCTAssertGreaterThan(image.nonWhitePixels, 10_000, path)
            if kept != nil { try writeColumnWidthCopy(of: path) }
        }
        let gif = try DecodedGIF(path: folder + "/animation.gif")
        XCTAssertEqual(gif.frames.count, 12)
        if kept != nil {
            try writeFrame(gif, 0, to: folder + "/look-animation-first.png")
            try writeFrame(gif, gif.frames.count - 1, to: folder + "/look-animation-last.png")
        }
    }

    func testGalleryInVectorFormats() throws {
        let folder = try makeTemporaryFolder(self)
        let paths = try renderGallery(to: folder, format: .svg)
        XCTAssertTrue(paths.contains { $0.hasSuffix("heatmap.svg") })
        let svg = try String(contentsOfFile: folder + "/heatmap.svg", encoding: .utf8)
        XCTAssertTrue(svg.contains("<svg"))
    }

    private func writeColumnWidthCopy(of path: String) throws {
        guard let source = cairo_image_surface_create_from_png(path) else { return }
        defer { cairo_surface_destroy(source) }
        let factor = 480.0 / Double(cairo_image_surface_get_width(source))
        let height = Int32(Double(cairo_image_surface_get_height(source)) * factor)
        let target = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 480, height)!
        defer { cairo_surface_destroy(target) }
        let context = cairo_create(target)!
        cairo_scale(context, factor, factor)
        cairo_set_source_surface(context, source, 0, 0)
        cairo_pattern_set_filter(cairo_get_source(context), CAIRO_FILTER_GOOD)
        cairo_paint(context)
        cairo_destroy(context)
        let name = (path as NSString).lastPathComponent.replacingOccurrences(of: ".png", with: "")
        cairo_surface_write_to_png(target, (path as NSString).deletingLastPathComponent + "/look-small-" + name + ".png")
    }

    private func writeFrame(_ gif: DecodedGIF, _ index: Int, to path: String) throws {
        let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(gif.width), Int32(gif.height))!
        defer { cairo_surface_destroy(surface) }
        cairo_surface_flush(surface)
        let stride = Int(cairo_image_surface_get_stride(surface))
        let data = cairo_image_surface_get_data(surface)!
        for row in 0..<gif.height {
            let line = UnsafeMutableRawPointer(data + row * stride).assumingMemoryBound(to: UInt32.self)
            for column in 0..<gif.width { line[column] = gif.frames[index][row * gif.width + column] }
        }
        cairo_surface_mark_dirty(surface)
        cairo_surface_write_to_png(surface, path)
    }
}
