import Foundation
import XCTest
@testable import Charts

final class RenderTests: XCTestCase {
    private var sample: ScatterChart {
        ScatterChart(title: "Determinism", x: Axis("x"), y: Axis("y"),
                     series: [ScatterSeries(name: "real", xs: [0, 0.3, 0.7], ys: [1, 0.2, 0.5], color: Theme.real),
                              ScatterSeries(name: "fake", xs: [0.1, 0.9], ys: [0.4, 0.8], color: Theme.fake)])
    }

    func testSameInputGivesByteIdenticalPNG() throws {
        let folder = try makeTemporaryFolder(self)
        try render(sample, to: folder + "/a.png", options: RenderOptions(width: 320, height: 240))
        try render(sample, to: folder + "/b.png", options: RenderOptions(width: 320, height: 240))
        let first = try Data(contentsOf: URL(fileURLWithPath: folder + "/a.png"))
        let second = try Data(contentsOf: URL(fileURLWithPath: folder + "/b.png"))
        XCTAssertGreaterThan(first.count, 1000)
        XCTAssertEqual(first, second)
    }

    func testWriteReplacesAtomicallyAndLeavesNoTemporaryFile() throws {
        let folder = try makeTemporaryFolder(self)
        let path = folder + "/figure.png"
        try Data("old, not a PNG".utf8).write(to: URL(fileURLWithPath: path))
        try render(sample, to: path, options: RenderOptions(width: 200, height: 150))
        XCTAssertEqual(try PixelImage(path: path).width, 200)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["figure.png"])
    }

    func testUnwritablePathThrowsAClearErrorAndWritesNothing() throws {
        let folder = try makeTemporaryFolder(self)
        let missing = folder + "/no-such-folder/figure.png"
        XCTAssertThrowsError(try render(sample, to: missing)) { error in
            let message = String(describing: error)
            XCTAssertTrue(message.contains(missing), message)
            XCTAssertTrue(message.contains("does not exist"), message)
        }
        // A file where a folder should be.
        try Data("x".utf8).write(to: URL(fileURLWithPath: folder + "/file"))
        XCTAssertThrowsError(try render(sample, to: folder + "/file/figure.png"))
        XCTAssertThrowsError(try render(sample, to: folder))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["file"])
    }

    func testUnknownFormatIsAClearError() {
        XCTAssertEqual(try ImageFormat.named("SVG"), .svg)
        XCTAssertThrowsError(try ImageFormat.named("jpg")) { error in
            XCTAssertTrue(String(describing: error).contains("png, svg, pdf"))
        }
    }

    func testVectorFormatsAreWritten() throws {
        let folder = try makeTemporaryFolder(self)
        try render(sample, to: folder + "/figure.svg", options: RenderOptions(format: .svg))
        try render(sample, to: folder + "/figure.pdf", options: RenderOptions(format: .pdf))
        let svg = try String(contentsOfFile: folder + "/figure.svg", encoding: .utf8)
        XCTAssertTrue(svg.contains("<svg"))
        let pdf = try Data(contentsOf: URL(fileURLWithPath: folder + "/figure.pdf"))
        XCTAssertEqual(String(decoding: pdf.prefix(5), as: UTF8.self), "%PDF-")
        let again = folder + "/again.pdf"
        try render(sample, to: again, options: RenderOptions(format: .pdf))
        XCTAssertEqual(pdf, try Data(contentsOf: URL(fileURLWithPath: again)))
    }
}
