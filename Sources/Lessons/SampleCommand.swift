import Charts
import Data
import Evaluation
import Foundation
import GAN
import Kernels
import NN

/// `gan-lab sample`: images from a generator checkpoint, and the noise that made them, as files
/// to look at, to score and to reproduce.
public struct SampleRequest {
    /// A generator.safetensors a `train-images` stage wrote.
    public var checkpoint: String
    public var count: Int
    /// Seeds the noise: the same checkpoint and seed give byte-identical files.
    public var seed: UInt64
    /// Created if missing; files already there with the same names are replaced.
    public var folder: String
    /// Threads for the generator's products and convolutions (the files do not depend on it).
    public var threads = 2
    /// The class a conditional generator is asked for; nil: every class in turn (0, 1, …, 9, 0, …).
    public var label: Int?

    /// How many images one run makes.
    public static let counts = 1...100_000
    /// `grid.png` shows the first this many images (all of them when there are fewer): 8×8 tiles
    /// stay readable on a page or a projector.
    public static let gridLimit = 64

    public init(checkpoint: String, count: Int, seed: UInt64, folder: String) {
        self.checkpoint = checkpoint
        self.count = count
        self.seed = seed
        self.folder = folder
    }
}

/// What `gan-lab sample` wrote.
public struct SampleResult {
    public let set: JudgedSet
    public let count: Int
    /// Images in `grid.png`.
    public let gridCount: Int
    /// Numbers in each noise vector.
    public let latentSize: Int
    /// A conditional generator's classes (0: unconditional), and the class asked for (nil: each in turn).
    public let classes: Int
    public let label: Int?
    /// Every file written, inside the folder.
    public let files: [String]

    /// What was written, for the terminal.
    public func lines(folder: String, seed: UInt64) -> [String] {
        func path(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }
        let last = String(format: "%05d", count - 1)
        return [
            "gan-lab · \(grouped(count)) \(set.rawValue) image\(count == 1 ? "" : "s") from noise seed \(seed)" + asked,
            "  \(path("grid.png")): " + (gridCount == count ? "all of them" : "the first \(gridCount)"),
            "  \(path("images"))/00000.png" + (count > 1 ? " … \(last).png" : "") + ": one \(set.imageDescription) PNG each",
            "  \(path(idxName(set))): all of them as IDX bytes, for `gan-lab score --data \(set.rawValue) \(path(idxName(set)))`",
            "  \(path("noise.safetensors")): the noise, [\(count), \(latentSize + classes)] under \"noise\""
                + (classes > 0 ? " (\(latentSize) numbers, then the one-hot class)" : ""),
        ]
    }

    private var asked: String {
        guard classes > 0 else { return "" }
        return label.map { ", asked for class \(set.classNames[$0])" } ?? ", asking for classes 0 to \(classes - 1) in turn"
    }
}

/// Makes `request.count` images with the checkpoint's generator (inference mode) from noise drawn
/// with `request.seed`, and writes them into the folder: `grid.png`, `images/NNNNN.png` (from
/// 00000), `samples-idx3-ubyte` and `noise.safetensors`. Everything is checked before anything is
/// written, and every file is written atomically (a temporary file beside it, then a rename).
public func sampleImages(_ request: SampleRequest, progress: (String) -> Void = { _ in }) throws -> SampleResult {
    let count = request.count
    guard SampleRequest.counts.contains(count) else {
        throw LessonError(["--n \(count): choose \(SampleRequest.counts.lowerBound) to \(SampleRequest.counts.upperBound) images"])
    }
    let generator = try TrainedGenerator(path: request.checkpoint)
    if let label = request.label {
        guard generator.classes > 0 else {
            throw LessonError(["--class \(label): \(request.checkpoint) is an unconditional generator, which cannot be asked for a class "
                + "(train one with `conditioning: labels`, as lesson 8 does); leave --class out"])
        }
        guard (0..<generator.classes).contains(label) else {
            throw LessonError(["--class \(label): choose a class from 0 to \(generator.classes - 1)"])
        }
    }
    let folder = request.folder, imageFolder = (request.folder as NSString).appendingPathComponent("images")
    try OutputFolder.makeFolder(folder)
    try OutputFolder.makeFolder(imageFolder)

    setMatrixThreads(request.threads)
    defer { resetMatrixThreads() }
    let noise = generator.noise(count: count, seed: request.seed, label: request.label)
    var reported = 0  // tenths of the images made, said for long runs
    let images = ImageSet(images: generator.images(from: noise) { made in
        guard count >= 10 * TrainedGenerator.batchSize, made * 10 / count > reported else { return }
        reported = made * 10 / count
        progress("made \(grouped(made)) of \(grouped(count)) images")
    }, labels: nil, source: request.checkpoint)

    var files: [String] = []
    func write(_ data: Data, _ name: String) throws {
        try writeAtomically(data, to: (folder as NSString).appendingPathComponent(name))
        files.append(name)
    }
    var metadata = ["kind": "gan-lab noise", "seed": String(request.seed), "noise": GeneratorCheckpoint.text(of: generator.noise),
                    "data": generator.set.rawValue, "generator": generator.architecture.description]
    if generator.classes > 0 { metadata["classes"] = String(generator.classes) }
    if let label = request.label { metadata["class"] = String(label) }
    try write(SafeTensors(tensors: [("noise", noise)], metadata: metadata).encoded(), "noise.safetensors")
    do {
        try images.writeIDX(to: (folder as NSString).appendingPathComponent(idxName(generator.set)))
    } catch let error as DataError {
        throw LessonError([error.message])
    }
    files.append(idxName(generator.set))

    let bytes = images.pixelBytes(), size = images.channels * images.height * images.width
    for index in 0..<count {
        let png: Data
        do {
            png = try encodePNG(pixels: Array(bytes[index * size..<(index + 1) * size]), width: images.width, height: images.height,
                                channels: images.channels)
        } catch let error as ChartError {
            throw LessonError([error.message])
        }
        try write(png, "images/" + imageName(index))
    }
    try removeStaleImages(in: imageFolder, from: count)

    let shown = min(count, SampleRequest.gridLimit)
    let columns = Int(Double(shown).squareRoot().rounded(.up))
    let title = (shown == count ? "\(grouped(count)) generated image\(count == 1 ? "" : "s")" : "The first \(shown) of \(grouped(count)) generated images")
        + " (\(generator.set.rawValue), noise seed \(request.seed)"
        + (generator.classes > 0 ? (request.label.map { ", class \(generator.set.classNames[$0])" } ?? ", classes in turn") : "") + ")"
    let grid = imageGrid(shown == count ? images.images : images.images.sliced(alongAxis: 0, 0..<shown), title: title, columns: columns)
    do {
        try render(grid, to: (folder as NSString).appendingPathComponent("grid.png"))
    } catch let error as ChartError {
        throw LessonError([error.message])
    }
    files.append("grid.png")
    return SampleResult(set: generator.set, count: count, gridCount: shown, latentSize: generator.latentSize, classes: generator.classes,
                        label: request.label, files: files)
}

/// The IDX file of the samples: count, rows, columns (`samples-idx3-ubyte`) for grey images, and
/// count, rows, columns, 3 (`samples-idx4-ubyte`) for colour ones.
func idxName(_ set: JudgedSet) -> String { set.imageShape[0] == 1 ? "samples-idx3-ubyte" : "samples-idx4-ubyte" }

/// `images/` names: five digits from 00000, so that a folder listing is in the IDX file's order.
func imageName(_ index: Int) -> String { String(format: "%05d.png", index) }


/// Removes `images/NNNNN.png` from an earlier run with more images than this one, so that the
/// folder holds exactly this run's images (other files are left alone).
private func removeStaleImages(in folder: String, from count: Int) throws {
    for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
        guard name.count == 9, name.hasSuffix(".png"), let index = Int(name.prefix(5)), name.prefix(5).allSatisfy(\.isNumber),
              index >= count else { continue }
        let path = (folder as NSString).appendingPathComponent(name)
        do { try FileManager.default.removeItem(atPath: path) } catch {
            throw LessonError(["cannot remove \(path), an image of an earlier run (\(error.localizedDescription)); remove it by hand"])
        }
    }
}
