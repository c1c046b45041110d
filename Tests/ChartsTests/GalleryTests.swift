import Foundation
import XCTest
@testable import Charts

final class GalleryTests: XCTestCase {
    /// Renders every chart kind; set CHARTS_GALLERY_DIR to keep the files for looking at them.
    func testGalleryRendersEveryKind() throws {
        let folder = try ProcessInfo.processInfo.environment["CHARTS_GALLERY_DIR"] ?? makeTemporaryFolder(self)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let paths = try renderGallery(to: folder)
        XCTAssertGreaterThanOrEqual(paths.count, 3)
        for path in paths where path.hasSuffix(".png") {
            let image = try PixelImage(path: path)
            XCTAssertEqual(image.width, 1600, path)
            XCTAssertGreaterThan(image.nonWhitePixels, 10_000, path)
        }
    }
}
