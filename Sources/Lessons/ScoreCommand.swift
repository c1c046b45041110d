import Data
import Evaluation
import Foundation
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
        if isFolder.boolValue { return .pngFolder(path, size: 28) }
        let lower = path.lowercased()
        if lower.hasSuffix(".png") {
            guard let grid else { throw LessonError(["\(path): one PNG holds a grid of images: say its shape with --grid ROWSxCOLUMNS"]) }
            return .pngGrid(path, rows: grid.rows, columns: grid.columns, padding: padding, size: 28)
        }
        return lower.hasSuffix(".csv") || lower.hasSuffix(".csv.gz") ? .csv(path) : .idx(images: path, labels: nil)
    }
}

/// What `gan-lab score` measured.
public struct ScoreResult {
    public let scores: ImageScores
    public let ceiling: ImageScores
    public let judgeAccuracy: Double
    public let judgePath: String

    /// The table: each score, the ceiling beside it, and which way is better.
    public var table: String {
        let rows: [(String, String, Double, Double, Int)] = [
            ("Inception-style score", "higher", scores.inceptionScore.mean, ceiling.inceptionScore.mean, 2),
            ("Fréchet distance, features", "lower", scores.frechetFeatures, ceiling.frechetFeatures, 2),
            ("Fréchet distance, logits", "lower", scores.frechetLogits, ceiling.frechetLogits, 2),
            ("precision", "higher", scores.manifold.precision, ceiling.manifold.precision, 3),
            ("recall", "higher", scores.manifold.recall, ceiling.manifold.recall, 3),
            ("density", "near 1", scores.manifold.density, ceiling.manifold.density, 3),
            ("coverage", "higher", scores.manifold.coverage, ceiling.manifold.coverage, 3),
            ("classes with a fair share", "10", Double(scores.classes.classesWithFairShare), Double(ceiling.classes.classesWithFairShare), 0),
            ("KL(classes ‖ uniform), nats", "lower", scores.classes.klFromUniform, ceiling.classes.klFromUniform, 3),
            ("confidently classified", "higher", scores.confidentShare, ceiling.confidentShare, 3),
        ]
        func cell(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value).leftPadded(10) }
        var lines = ["  " + "score".padding(toLength: 32, withPad: " ", startingAt: 0) + "these images".leftPadded(14) + "ceiling".leftPadded(10) + "   better"]
        for (name, better, value, ceilingValue, digits) in rows {
            lines.append("  " + name.padding(toLength: 32, withPad: " ", startingAt: 0) + cell(value, digits).leftPadded(14) + cell(ceilingValue, digits) + "   " + better)
        }
        return lines.joined(separator: "\n")
    }

    /// Every number by key, for `--json`.
    public var json: String {
        let object: [String: Any] = ["images": scores.values, "ceiling": ceiling.values, "judge_accuracy": judgeAccuracy, "judge": judgePath]
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}

/// Reads the images, trains or reads the judge, scores the images and their ceiling.
public func scoreImages(_ request: ScoreRequest, progress: (String) -> Void) throws -> ScoreResult {
    let images: ImageSet
    do {
        images = try request.source().load()
    } catch let error as DataError {
        throw LessonError([error.message])
    }
    guard images.channels == 1, images.height == 28, images.width == 28 else {
        throw LessonError(["\(request.path): \(images.channels)×\(images.height)×\(images.width) images; the \(request.set.rawValue) judge reads grey 28×28 images"])
    }
    guard images.count >= 10 else { throw LessonError(["\(request.path): \(images.count) images; score at least 10 (a thousand or more for stable numbers)"]) }
    let dataFolder = ImageDataView.dataFolder
    let data: JudgeData
    do {
        data = try JudgeData.load(request.set, recipe: .standard(for: request.set), dataFolder: dataFolder)
    } catch let error as DataError {
        throw LessonError([error.message])
    }
    let judge = try Judge.load(request.set, data: data, dataFolder: dataFolder, progress: progress)
    let scorer = Scorer(judge: judge, data: data)
    return ScoreResult(scores: scorer.score(images.images), ceiling: scorer.ceiling(count: images.count),
                       judgeAccuracy: judge.accuracy(on: data.heldOut), judgePath: judge.path)
}
