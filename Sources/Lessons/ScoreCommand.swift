import Data
import Evaluation
import Foundation
import GAN
import Kernels

/// `gan-lab score`: judges a set of images with the lab's classifier for their data set and
/// prints every score beside its ceiling (real images the judge never trained on, as many).
public struct ScoreRequest {
    public var set: JudgedSet
    /// An IDX file (raw or `.gz`), a CSV of pixel rows, a folder of PNGs, or one PNG grid.
    public var path: String
    /// For one PNG holding a grid: rows and columns, and the padding around and between tiles.
    public var grid: (rows: Int, columns: Int)?
    public var padding = 2
    /// Instead of image files: a generator checkpoint the lab wrote, and how many images it makes
    /// (from noise drawn with a fixed seed, so the same checkpoint scores the same every time).
    public var checkpoint: String?
    public var samples = 10_000

    public init(set: JudgedSet, path: String, grid: (rows: Int, columns: Int)? = nil, padding: Int = 2) {
        self.set = set
        self.path = path
        self.grid = grid
        self.padding = padding
    }

    /// Where the images come from.
    func source() throws -> ImageSource {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw LessonError(["\(path): no such file or folder (give an IDX file, a CSV of pixel rows, a folder of PNGs or a PNG grid)"])
        }
        let size = set.imageShape[1]  // the judge's images are square
        if isFolder.boolValue { return .pngFolder(path, size: size) }
        let lower = path.lowercased()
        if lower.hasSuffix(".png") {
            guard let grid else { throw LessonError(["\(path): one PNG holds a grid of images: say its shape with --grid ROWSxCOLUMNS"]) }
            return .pngGrid(path, rows: grid.rows, columns: grid.columns, padding: padding, size: size)
        }
        return lower.hasSuffix(".csv") || lower.hasSuffix(".csv.gz") ? .csv(path) : .idx(images: path, labels: nil)
    }
}

/// What `gan-lab score` measured.
public struct ScoreResult {
    public let scores: ImageScores
    public let ceiling: ImageScores
    /// As many images of uniform noise, scored the same way: what no learning at all gets.
    public let floor: ImageScores
    public let judgeAccuracy: Double
    public let judgePath: String
    /// The judge's training images every set is compared with.
    public let referenceCount: Int

    /// What was compared with what, above the table.
    public func heading(source: String, set: JudgedSet) -> String {
        "gan-lab · score of \(grouped(scores.count)) images from \(source) by the \(set.rawValue) judge "
            + "(\(fixed(100 * judgeAccuracy, 1)) % right on images it never saw)\n"
            + "  features: the judge's 128 penultimate ReLU outputs; ceiling: \(grouped(ceiling.count)) real images it never trained on; "
            + "floor: \(grouped(floor.count)) images of uniform noise; each set against \(grouped(referenceCount)) of the judge's training images"
    }

    /// The table: each score, the ceiling beside it, and which way is better.
    public var table: String {
        let rows: [(String, String, (ImageScores) -> Double, Int)] = [
            ("Inception-style score", "higher", { $0.inceptionScore.mean }, 2),
            ("Fréchet distance, features", "lower", { $0.frechetFeatures }, 2),
            ("Fréchet distance, logits", "lower", { $0.frechetLogits }, 2),
            ("precision", "higher", { $0.manifold.precision }, 3),
            ("recall", "higher", { $0.manifold.recall }, 3),
            ("density", "near 1", { $0.manifold.density }, 3),
            ("coverage", "higher", { $0.manifold.coverage }, 3),
            ("classes with a fair share", "10", { Double($0.classes.classesWithFairShare) }, 0),
            ("KL(classes ‖ uniform), nats", "lower", { $0.classes.klFromUniform }, 3),
            ("confidently classified", "higher", { $0.confidentShare }, 3),
        ]
        func cell(_ value: Double, _ digits: Int) -> String { rightAligned(fixed(value, digits), 12) }
        var lines = ["  " + leftAligned("score", 30) + rightAligned("these images", 14) + rightAligned("ceiling", 12)
                     + rightAligned("floor", 12) + "   better"]
        for (name, better, value, digits) in rows {
            lines.append("  " + leftAligned(name, 30) + rightAligned(cell(value(scores), digits), 14)
                         + cell(value(ceiling), digits) + cell(value(floor), digits) + "   " + better)
        }
        return lines.joined(separator: "\n")
    }

    /// Every number by key, for `--json`.
    public var json: String {
        let object: [String: Any] = ["images": scores.values, "ceiling": ceiling.values, "floor": floor.values,
                                     "judge_accuracy": judgeAccuracy, "judge": judgePath]
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}

/// Reads the images, trains or reads the judge, scores the images and their ceiling.
public func scoreImages(_ request: ScoreRequest, progress: (String) -> Void) throws -> ScoreResult {
    let images: ImageSet
    if let checkpoint = request.checkpoint {
        images = try GeneratorCheckpoint.generate(from: checkpoint, set: request.set, count: request.samples)
    } else {
        do {
            images = try request.source().load()
        } catch let error as DataError {
            throw LessonError([error.message])
        }
    }
    guard [images.channels, images.height, images.width] == request.set.imageShape else {
        throw LessonError(["\(request.path): \(images.channels)×\(images.height)×\(images.width) images; the \(request.set.rawValue) judge reads "
            + "\(request.set.imageDescription) images"])
    }
    guard images.count >= 10 else { throw LessonError(["\(request.path): \(images.count) images; score at least 10 (a thousand or more for stable numbers)"]) }
    let (data, judge) = try loadJudge(request.set, progress: progress)
    let scorer = Scorer(judge: judge, data: data)
    var random = RandomSource(seed: 0x666c_6f6f_72)
    let noise = Tensor.uniform(shape: [min(images.count, scorer.heldOutCount)] + request.set.imageShape, low: -1, high: 1, using: &random)
    return ScoreResult(scores: scorer.score(images.images), ceiling: scorer.ceiling(count: images.count), floor: scorer.score(noise),
                       judgeAccuracy: judge.heldOutAccuracy, judgePath: judge.path, referenceCount: scorer.referenceCount)
}

/// The judge for `set` and the images it learns from and is measured on, from the lab's data
/// folder (trained now, with `progress` lines, when no cache fits).
func loadJudge(_ set: JudgedSet, progress: (String) -> Void) throws -> (JudgeData, Judge) {
    let dataFolder = ImageDataView.dataFolder
    do {
        let data = try JudgeData.load(set, recipe: .standard(for: set), dataFolder: dataFolder)
        return (data, try Judge.load(set, data: data, dataFolder: dataFolder, progress: progress))
    } catch let error as DataError {
        throw LessonError([error.message])
    }
}
