@testable import Data
import Foundation
import Kernels
import XCTest

/// The IDX writer against the reader beside it.
final class IDXWriterTests: XCTestCase {
    func testBytesToValuesToBytesIsExactAndValuesMapAsTanhOutputs() {
        let all = (0..<256).map(UInt8.init)
        let set = all.withUnsafeBufferPointer { ImageSet.fromBytes($0, count: 1, channels: 1, height: 16, width: 16, labels: nil, source: "test") }
        XCTAssertEqual(set.pixelBytes(), all)
        // tanh's ends and middle, values beyond them clamped, not-a-number black.
        let values = Tensor(shape: [1, 1, 1, 7], scalars: [-1, 1, 0, -2, 3, .nan, 0.5])
        XCTAssertEqual(ImageSet(images: values, labels: nil, source: "test").pixelBytes(), [0, 255, 128, 0, 255, 0, 191])
    }

    func testColourPixelsAreInterleavedAsFilesStoreThem() {
        // Two pixels of three channels, planar in the tensor: red 0, 1; green 2, 3; blue 4, 5.
        let bytes: [UInt8] = [10, 20, 30, 40, 50, 60]  // file order: r g b, r g b
        let set = bytes.withUnsafeBufferPointer { ImageSet.fromBytes($0, count: 1, channels: 3, height: 1, width: 2, labels: nil, source: "test") }
        XCTAssertEqual(set.pixelBytes(), bytes)
    }

    func testWrittenIDXReadsBack() throws {
        let folder = scratchFolder()
        var random = RandomSource(seed: 4)
        let images = Tensor.uniform(shape: [3, 1, 5, 7], low: -1, high: 1, using: &random)
        let path = folder + "/samples-idx3-ubyte"
        try ImageSet(images: images, labels: nil, source: "test").writeIDX(to: path)
        let (dimensions, values) = try IDX.read(path)
        XCTAssertEqual(dimensions, [3, 5, 7])
        XCTAssertEqual(values.count, 3 * 5 * 7)
        let read = try ImageSource.idx(images: path, labels: nil).load()
        XCTAssertEqual(read.images.shape, [3, 1, 5, 7])
        for (value, back) in zip(images.scalars, read.images.scalars) { XCTAssertEqual(value, back, accuracy: 0.5 / 127.5 + 1e-6) }
        // Written again over itself from what was read: the same bytes.
        let first = try Data(contentsOf: URL(fileURLWithPath: path))
        try read.writeIDX(to: path)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), first)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["samples-idx3-ubyte"])
    }

    /// Colour images as count × rows × columns × 3, read back as colour.
    func testColourIDXReadsBack() throws {
        let folder = scratchFolder()
        var random = RandomSource(seed: 5)
        let images = Tensor.uniform(shape: [2, 3, 4, 5], low: -1, high: 1, using: &random)
        let path = folder + "/samples-idx4-ubyte"
        try ImageSet(images: images, labels: nil, source: "test").writeIDX(to: path)
        XCTAssertEqual(try IDX.read(path).dimensions, [2, 4, 5, 3])
        let read = try ImageSource.idx(images: path, labels: nil).load()
        XCTAssertEqual(read.images.shape, [2, 3, 4, 5])
        for (value, back) in zip(images.scalars, read.images.scalars) { XCTAssertEqual(value, back, accuracy: 0.5 / 127.5 + 1e-6) }
    }

    /// A name ending in .gz gets a gzip file (as MNIST's and Fashion-MNIST's come), labels an idx1
    /// file beside it; both read back as the set they came from.
    func testCompressedImagesAndLabelsReadBack() throws {
        let folder = scratchFolder()
        let bytes: [UInt8] = (0..<48).map { (index: Int) -> UInt8 in UInt8(index * 37 % 256) }
        let set = bytes.withUnsafeBufferPointer { ImageSet.fromBytes($0, count: 4, channels: 3, height: 2, width: 2, labels: [0, 9, 3, 255], source: "test") }
        let (images, labels) = (folder + "/set-images-idx4-ubyte.gz", folder + "/set-labels-idx1-ubyte.gz")
        try set.writeIDX(to: images)
        try set.writeLabelsIDX(to: labels)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: images)).prefix(2), Data([0x1f, 0x8b]))
        let read = try ImageSource.idx(images: images, labels: labels).load()
        XCTAssertEqual(read.pixelBytes(), bytes)
        XCTAssertEqual(read.labels, [0, 9, 3, 255])
        XCTAssertEqual(set.idxData(gzip: false), Data(try fileBytes(images)))
        let unlabelled = ImageSet(images: Tensor(shape: [1, 1, 2, 2]), labels: nil, source: "test")
        XCTAssertThrowsError(try unlabelled.writeLabelsIDX(to: folder + "/none-labels-idx1-ubyte")) { error in
            XCTAssertEqual((error as? DataError)?.message, folder + "/none-labels-idx1-ubyte: these images have no labels of 0 to 255 to write")
        }
    }

    func testWriterRefusesOtherChannelCountsAndSaysWhyItCannotWrite() {
        let two = ImageSet(images: Tensor(shape: [1, 2, 2, 2]), labels: nil, source: "test")
        XCTAssertThrowsError(try two.writeIDX(to: scratchFolder() + "/two")) { error in
            XCTAssertEqual((error as? DataError)?.message.hasSuffix("IDX image files hold grey or RGB images; these have 2 channels"), true, "\(error)")
        }
        let grey = ImageSet(images: Tensor(shape: [1, 1, 2, 2]), labels: nil, source: "test")
        let path = scratchFolder() + "/no-such-folder/samples"
        XCTAssertThrowsError(try grey.writeIDX(to: path)) { error in
            let message = (error as? DataError)?.message ?? ""
            XCTAssertTrue(message.hasPrefix("\(path): cannot be written ("), message)
            XCTAssertTrue(message.hasSuffix("); choose another folder"), message)
            XCTAssertFalse(message.contains("\n"))
        }
    }
}
