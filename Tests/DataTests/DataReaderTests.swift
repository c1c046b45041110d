import CPNG
import CZlib
@testable import Data
import Foundation
import Kernels
import XCTest

/// A fresh temporary folder for one test.
func scratchFolder(_ name: String = #function) -> String {
    let path = NSTemporaryDirectory() + "gan-lab-data-tests/\(name.filter { $0.isLetter })-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// An IDX file of unsigned bytes.
func idxBytes(_ dimensions: [Int], _ values: [UInt8]) -> [UInt8] {
    [0, 0, 0x08, UInt8(dimensions.count)]
        + dimensions.flatMap { d in (0..<4).map { UInt8(truncatingIfNeeded: d >> (8 * (3 - $0))) } } + values
}

func write(_ bytes: [UInt8], to path: String) {
    _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
}

/// A PNG written with libpng's simplified API: grey (1 channel) or RGB (3).
func writePNG(_ pixels: [UInt8], width: Int, height: Int, channels: Int, to path: String) {
    var image = png_image()
    image.version = UInt32(PNG_IMAGE_VERSION)
    image.width = UInt32(width)
    image.height = UInt32(height)
    image.format = channels == 3 ? UInt32(PNG_FORMAT_FLAG_COLOR) : 0
    _ = pixels.withUnsafeBytes { png_image_write_to_file(&image, path, 0, $0.baseAddress, 0, nil) }
}

final class DataReaderTests: XCTestCase {
    /// Two 2×3 images: pixel values 0…11 and labels 7, 3.
    let pixels: [UInt8] = Array(0..<12).map { UInt8($0 * 23) }

    func testIDXImagesAndLabelsRawAndCompressed() throws {
        let folder = scratchFolder()
        for compressed in [false, true] {
            let images = folder + "/images\(compressed ? ".gz" : "")", labels = folder + "/labels\(compressed ? ".gz" : "")"
            let imageBytes = idxBytes([2, 2, 3], pixels), labelBytes = idxBytes([2], [7, 3])
            write(compressed ? gzipped(imageBytes) : imageBytes, to: images)
            write(compressed ? gzipped(labelBytes) : labelBytes, to: labels)
            let set = try ImageSource.idx(images: images, labels: labels).load()
            XCTAssertEqual(set.images.shape, [2, 1, 2, 3])
            XCTAssertEqual(set.labels, [7, 3])
            XCTAssertEqual(set.images.scalars, pixels.map { Float($0) / 127.5 - 1 })
            XCTAssertEqual(set.images.scalars.min()!, -1)
        }
    }

    func testBadIDXFilesAreNamedWithWhatIsWrong() throws {
        let folder = scratchFolder()
        let cases: [([UInt8], String)] = [
            ([1, 2, 3, 4, 5], "not an IDX file"),
            (idxBytes([2, 2, 3], Array(pixels.prefix(10))), "is truncated"),
            (idxBytes([2, 2, 3], pixels + [1]), "has extra bytes"),
            (Array(gzipped(idxBytes([2, 2, 3], pixels)).prefix(20)), "ends early"),
            ([0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0], "unsigned bytes"),
            ([0, 0, 8, 3, 0, 0], "truncated in its header"),
        ]
        for (index, (bytes, expected)) in cases.enumerated() {
            let path = folder + "/bad\(index)"
            write(bytes, to: path)
            XCTAssertThrowsError(try ImageSource.idx(images: path, labels: nil).load()) { error in
                let message = (error as? DataError)?.message ?? "\(error)"
                XCTAssertTrue(message.hasPrefix(path) && message.contains(expected), message)
            }
        }
        write(idxBytes([2, 2, 3], pixels), to: folder + "/ok")
        write(idxBytes([3], [1, 2, 3]), to: folder + "/labels")
        XCTAssertThrowsError(try ImageSource.idx(images: folder + "/ok", labels: folder + "/labels").load()) { error in
            XCTAssertTrue("\(error)".contains("3 labels for 2 images"), "\(error)")
        }
        XCTAssertThrowsError(try ImageSource.idx(images: folder + "/missing", labels: nil).load()) { error in
            XCTAssertTrue("\(error)".contains("no such file"), "\(error)")
        }
    }

    /// `data: mnist` takes the user's full MNIST IDX files from the data folder when they are there.
    func testMNISTPrefersTheFullIDXFilesInTheDataFolder() throws {
        let folder = scratchFolder()
        XCTAssertNil(ImageSource.fullMNIST(in: folder))
        XCTAssertThrowsError(try ImageSource.mnist.load(dataFolder: folder)) { XCTAssertTrue("\($0)".contains("run scripts/setup.sh"), "\($0)") }
        let pixels = (0..<18).map { UInt8($0 * 10) }
        write(gzipped(idxBytes([2, 3, 3], pixels)), to: folder + "/train-images-idx3-ubyte.gz")
        write(gzipped(idxBytes([2], [4, 9])), to: folder + "/train-labels-idx1-ubyte.gz")
        XCTAssertEqual(ImageSource.fullMNIST(in: folder)?.images, folder + "/train-images-idx3-ubyte.gz")
        let set = try ImageSource.mnist.load(dataFolder: folder)
        XCTAssertEqual(set.count, 2)
        XCTAssertEqual(set.labels, [4, 9])
    }

    func testCSVImageRowsAndTheirErrors() throws {
        let folder = scratchFolder()
        let path = folder + "/digits.csv"
        write(Array("0,10,20,255,4\n255,0,0,0,9\n\n".utf8), to: path)
        let set = try ImageSource.csv(path).load()
        XCTAssertEqual(set.images.shape, [2, 1, 2, 2])
        XCTAssertEqual(set.labels, [4, 9])
        XCTAssertEqual(set.images.scalars.prefix(4).map { (($0 + 1) * 127.5).rounded() }, [0, 10, 20, 255])
        let gz = folder + "/digits.csv.gz"
        write(gzipped(Array("0,10,20,255,4\n".utf8)), to: gz)
        XCTAssertEqual(try ImageSource.csv(gz).load().labels, [4])
        for (text, expected) in [("1,2,3,4,5\n1,2,3,4\n", ":2: 4 values, the first row has 5"),
                                 ("1,2,3,256,5\n", ":1: value 4 is not a whole number 0–255"),
                                 ("1,2,x,4,5\n", ":1: unexpected character \"x\""),
                                 ("1,2,3\n", ":1: 3 values; an image row is side² pixels"),
                                 ("1,,3,4,5\n", ":1: value 2 is not a whole number")] {
            write(Array(text.utf8), to: path)
            XCTAssertThrowsError(try ImageSource.csv(path).load()) { error in
                XCTAssertTrue("\(error)".hasPrefix(path) && "\(error)".contains(expected), "\(error)")
            }
        }
    }

    func testPointsCSVWithAndWithoutHeader() throws {
        let folder = scratchFolder()
        let path = folder + "/points.csv"
        write(Array("x,y\n1.5, -2\n3e-1,4\n".utf8), to: path)
        XCTAssertEqual(try loadPoints(path).scalars, [1.5, -2, 0.3, 4])
        write(Array("1,2\n3,4\n".utf8), to: path)
        XCTAssertEqual(try loadPoints(path).shape, [2, 2])
        write(Array("x,y\n1,2\n3\n".utf8), to: path)
        XCTAssertThrowsError(try loadPoints(path)) { XCTAssertTrue("\($0)".contains(":3: \"3\" is not a point"), "\($0)") }
        write(Array("x,y\n".utf8), to: path)
        XCTAssertThrowsError(try loadPoints(path)) { XCTAssertTrue("\($0)".contains("no points"), "\($0)") }
    }

    /// A grid of 2×3 tiles of 2×2 pixels, 1 pixel of padding around and between: tile t is all t·40.
    func testPNGGridIsCutIntoItsTilesRowByRow() throws {
        let folder = scratchFolder()
        let (width, height) = (3 * 2 + 4, 2 * 2 + 3)
        var pixels = [UInt8](repeating: 255, count: width * height)
        for row in 0..<2 {
            for column in 0..<3 {
                for y in 0..<2 {
                    for x in 0..<2 { pixels[(1 + row * 3 + y) * width + 1 + column * 3 + x] = UInt8((row * 3 + column) * 40) }
                }
            }
        }
        writePNG(pixels, width: width, height: height, channels: 1, to: folder + "/grid.png")
        let set = try ImageSource.pngGrid(folder + "/grid.png", rows: 2, columns: 3, padding: 1, size: 2).load()
        XCTAssertEqual(set.images.shape, [6, 1, 2, 2])
        for tile in 0..<6 {
            XCTAssertEqual(set.images.scalars[(tile * 4)..<(tile * 4 + 4)].map { (($0 + 1) * 127.5).rounded() }, Array(repeating: Float(tile * 40), count: 4))
        }
        XCTAssertThrowsError(try ImageSource.pngGrid(folder + "/grid.png", rows: 4, columns: 3, padding: 1, size: 2).load()) { error in
            XCTAssertTrue("\(error)".contains("do not divide into 4×3 tiles with 1 pixels of padding"), "\(error)")
        }
    }

    func testPNGFolderGreyAndColourCroppedAndScaled() throws {
        let folder = scratchFolder()
        // A 4×2 grey image: its centred square is columns 1–2; scaled to 1×1 it is their mean.
        writePNG([0, 100, 200, 0, 0, 100, 200, 0], width: 4, height: 2, channels: 1, to: folder + "/a.png")
        writePNG([50, 50, 50, 50], width: 2, height: 2, channels: 1, to: folder + "/b.png")
        let set = try ImageSource.pngFolder(folder, size: 1).load()
        XCTAssertEqual(set.images.shape, [2, 1, 1, 1])
        XCTAssertEqual(set.images.scalars.map { (($0 + 1) * 127.5).rounded() }, [150, 50])
        XCTAssertNil(set.labels)
        let colour = scratchFolder("colour")
        writePNG([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255], width: 2, height: 2, channels: 3, to: colour + "/c.png")
        let rgb = try ImageSource.pngFolder(colour, size: 2).load()
        XCTAssertEqual(rgb.images.shape, [1, 3, 2, 2])
        XCTAssertEqual(rgb.images.scalars.map { (($0 + 1) * 127.5).rounded() }, [255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255])
        writePNG([1], width: 1, height: 1, channels: 1, to: colour + "/d.png")
        XCTAssertThrowsError(try ImageSource.pngFolder(colour, size: 2).load()) { error in
            XCTAssertTrue("\(error)".contains("d.png: grey among colour images"), "\(error)")
        }
        XCTAssertThrowsError(try ImageSource.pngFolder(scratchFolder("empty"), size: 2).load()) { error in
            XCTAssertTrue("\(error)".contains("no .png images"), "\(error)")
        }
        write([0x89, 0x50, 0x4e, 0x47, 1, 2, 3], to: folder + "/c.png")
        XCTAssertThrowsError(try ImageSource.pngFolder(folder, size: 1).load()) { error in
            XCTAssertTrue("\(error)".contains("c.png: not a readable PNG"), "\(error)")
        }
    }

    func testBatchesShuffleEachEpochOrDrawWithReplacement() throws {
        let set = ImageSet(images: Tensor(shape: [5, 1, 1, 1], scalars: [0, 1, 2, 3, 4]), labels: [0, 1, 2, 3, 4], source: "test")
        var batches = ImageBatches(set, batchSize: 2)
        var random = RandomSource(seed: 9)
        var firstEpoch: [Int] = [], secondEpoch: [Int] = []
        for _ in 0..<3 { firstEpoch += batches.next(using: &random).labels! }
        XCTAssertEqual(batches.epoch, 0)
        for _ in 0..<3 { secondEpoch += batches.next(using: &random).labels! }
        XCTAssertEqual(batches.epoch, 1)
        XCTAssertEqual(firstEpoch.sorted(), [0, 1, 2, 3, 4])
        XCTAssertEqual(secondEpoch.sorted(), [0, 1, 2, 3, 4])
        XCTAssertNotEqual(firstEpoch, secondEpoch)
        var drawn = ImageBatches(set, batchSize: 64, withReplacement: true)
        let labels = drawn.next(using: &random).labels!
        XCTAssertEqual(labels.count, 64)
        XCTAssertLessThan(Set(labels).count, 6)
        var again = RandomSource(seed: 9), replay = ImageBatches(set, batchSize: 2)
        XCTAssertEqual(replay.next(using: &again).labels, Array(firstEpoch.prefix(2)))
    }

    /// Mutated IDX, CSV and PNG files give a DataError or a valid set, never a trap.
    func testMutatedFilesNeverTrap() throws {
        let folder = scratchFolder()
        var random = RandomSource(seed: 12)
        let png = folder + "/png/seed.png"
        try FileManager.default.createDirectory(atPath: folder + "/png", withIntermediateDirectories: true)
        writePNG(Array(0..<48).map { UInt8($0 * 5) }, width: 4, height: 4, channels: 3, to: png)
        let seeds: [(String, [UInt8])] = [
            ("idx", idxBytes([2, 2, 3], pixels)), ("idx.gz", gzipped(idxBytes([2, 2, 3], pixels))),
            ("csv", Array("0,10,20,255,4\n255,0,0,0,9\n".utf8)), ("png/seed.png", [UInt8](FileManager.default.contents(atPath: png)!)),
        ]
        for (name, original) in seeds {
            for trial in 0..<150 {
                var bytes = original
                switch trial % 3 {
                case 0: bytes = Array(bytes.prefix(random.index(below: bytes.count + 1)))
                case 1: for _ in 0...random.index(below: 3) { bytes[random.index(below: bytes.count)] = UInt8(random.index(below: 256)) }
                default: bytes.insert(UInt8(random.index(below: 256)), at: random.index(below: bytes.count + 1))
                }
                let path = folder + "/" + name
                write(bytes, to: path)
                do {
                    switch name {
                    case "csv": _ = try ImageSource.csv(path).load()
                    case "png/seed.png": _ = try ImageSource.pngFolder(folder + "/png", size: 3).load()
                    default: _ = try ImageSource.idx(images: path, labels: nil).load()
                    }
                } catch let error as DataError {
                    XCTAssertTrue(error.message.contains(folder), error.message)
                }
            }
        }
    }
}

/// The real data sets, where scripts/setup.sh has put them (skipped, and saying why, where not).
final class InstalledDataSetTests: XCTestCase {
    func testMNISTDigitsAndFashionMNISTLoadWithTheirLabels() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: repository + "/data/mnist_5k.csv.gz"),
              FileManager.default.fileExists(atPath: ImageSource.fashionMNISTFolder) else {
            throw XCTSkip("run scripts/setup.sh first: it fetches the MNIST digits and installs Fashion-MNIST")
        }
        let digits = try ImageSource.mnist.load(dataFolder: repository + "/data")
        XCTAssertEqual(digits.images.shape, [5000, 1, 28, 28])
        XCTAssertEqual((0..<10).map { label in digits.labels!.filter { $0 == label }.count }, Array(repeating: 500, count: 10))
        let fashion = try ImageSource.fashionMNIST.load()
        XCTAssertEqual(fashion.images.shape, [60000, 1, 28, 28])
        XCTAssertEqual(Set(fashion.labels!), Set(0..<10))
        for set in [digits, fashion] {
            let values = set.images.scalars
            XCTAssertEqual(values.min(), -1)
            XCTAssertEqual(values.max(), 1)
        }
    }
}
