import Data
import Evaluation
import Foundation
import Kernels
@testable import Lessons
import XCTest

/// `gan-lab score` on files the tests write.
final class ScoreCommandTests: XCTestCase {
    /// IDX bytes of images [n, 28, 28] from values in [-1, 1].
    private func idx(_ images: Tensor) -> Data {
        var bytes: [UInt8] = [0, 0, 8, 3]
        for size in [images.shape[0], 28, 28] { bytes += [UInt8(size >> 24 & 255), UInt8(size >> 16 & 255), UInt8(size >> 8 & 255), UInt8(size & 255)] }
        bytes += images.scalars.map { UInt8(max(0, min(255, (($0 + 1) * 127.5).rounded()))) }
        return Data(bytes)
    }

    func testRealHeldOutDigitsScoreAtTheCeilingAndNoiseFarBelowIt() throws {
        let folder = temporaryFolder()
        let data = try JudgeData.load(.mnist, recipe: .standard(for: .mnist), dataFolder: ImageDataView.dataFolder)
        try idx(data.heldOut.images).write(to: URL(fileURLWithPath: folder + "/real.idx"))
        var random = RandomSource(seed: 5)
        try idx(.uniform(shape: [500, 1, 28, 28], low: -1, high: 1, using: &random)).write(to: URL(fileURLWithPath: folder + "/noise.idx"))

        let real = try scoreImages(ScoreRequest(set: .mnist, path: folder + "/real.idx")) { _ in }
        XCTAssertGreaterThanOrEqual(real.judgeAccuracy, 0.97)
        // The same 500 images as the ceiling (up to the pixels' rounding to bytes).
        XCTAssertEqual(real.scores.count, 500)
        XCTAssertEqual(real.scores.frechetFeatures, real.ceiling.frechetFeatures, accuracy: 0.05 * real.ceiling.frechetFeatures + 1e-3)
        XCTAssertEqual(real.scores.inceptionScore.mean, real.ceiling.inceptionScore.mean, accuracy: 0.05)
        XCTAssertGreaterThan(real.ceiling.inceptionScore.mean, 8)
        XCTAssertEqual(real.ceiling.classes.classesWithFairShare, 10)

        let noise = try scoreImages(ScoreRequest(set: .mnist, path: folder + "/noise.idx")) { _ in }
        XCTAssertGreaterThan(noise.scores.frechetFeatures, 10 * noise.ceiling.frechetFeatures)
        XCTAssertLessThan(noise.scores.manifold.precision, 0.3)
        XCTAssertLessThan(noise.scores.inceptionScore.mean, real.ceiling.inceptionScore.mean)
        XCTAssertTrue(noise.table.contains("Fréchet distance, features"))
        XCTAssertTrue(real.heading(source: "real.idx", set: .mnist).contains("score of 500 images from real.idx by the mnist judge (97.8 % right"))
        XCTAssertTrue(real.heading(source: "real.idx", set: .mnist).contains("each set against 4,500 of the judge's training images"))
        // The floor is noise scored the same way: far below the ceiling on every score.
        XCTAssertGreaterThan(real.floor.frechetFeatures, 10 * real.ceiling.frechetFeatures)
        XCTAssertLessThan(real.floor.manifold.recall, real.ceiling.manifold.recall)
        XCTAssertLessThan(real.floor.inceptionScore.mean, real.ceiling.inceptionScore.mean)
        XCTAssertTrue(noise.json.contains("\"fid_features\""))
    }

    /// A generator of the lab's shapes (colour 64×64) trained for a few steps: `gan-lab score` judges
    /// it with the shapes judge, `gan-lab sample` writes its images as colour PNGs and a colour IDX
    /// file, and both read back; the digits' judge refuses colour images in one line.
    func testShapesGeneratorIsScoredAndSampledInColour() throws {
        let folder = temporaryFolder()
        let text = "---\nlesson: 52\ntitle: Shapes\nsummary: Shapes.\n---\nIntro.\n\n## Train\n\n```stage\nid: train\nkind: train-images\n"
            + "data: shapes\ngenerator: 16 -> 32 relu -> 12288 tanh -> reshape 3x64x64\ndiscriminator: 3x64x64 -> flatten -> 32 leaky -> 1\n"
            + "epochs: 1\n```\n\nDone.\n"
        _ = FileManager.default.createFile(atPath: folder + "/shapes.md", contents: Data(text.utf8))
        _ = try runLesson(folder + "/shapes.md", out: folder)
        let checkpoint = folder + "/lesson-52/stage-1/generator.safetensors"
        var request = ScoreRequest(set: .shapes, path: checkpoint)
        request.checkpoint = checkpoint
        request.samples = 200
        let scored = try scoreImages(request) { _ in }
        XCTAssertEqual(scored.scores.count, 200)
        XCTAssertGreaterThanOrEqual(scored.judgeAccuracy, 0.9)
        XCTAssertEqual(scored.ceiling.classes.classesWithFairShare, 10)
        XCTAssertGreaterThan(scored.scores.frechetFeatures, scored.ceiling.frechetFeatures)  // a few steps make no shapes

        let sampled = try sampleImages(SampleRequest(checkpoint: checkpoint, count: 12, seed: 3, folder: folder + "/samples"))
        XCTAssertTrue(sampled.files.contains("samples-idx4-ubyte"), "\(sampled.files)")
        XCTAssertTrue(sampled.lines(folder: "s", seed: 3).contains { $0.contains("one colour 64×64 PNG each") })
        for path in [folder + "/samples/samples-idx4-ubyte", folder + "/samples/images"] {
            XCTAssertEqual(try scoreImages(ScoreRequest(set: .shapes, path: path)) { _ in }.scores.count, 12, path)
        }
        XCTAssertThrowsError(try scoreImages(ScoreRequest(set: .mnist, path: folder + "/samples/images")) { _ in }) { error in
            XCTAssertTrue("\(error)".contains("3×28×28 images; the mnist judge reads grey 28×28 images"), "\(error)")
        }
    }

    func testBadInputGetsOneClearLine() throws {
        let folder = temporaryFolder()
        func problem(_ request: ScoreRequest) -> String {
            do {
                _ = try scoreImages(request) { _ in }
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(problem(ScoreRequest(set: .mnist, path: folder + "/nowhere")).contains("no such file or folder"))
        XCTAssertTrue(problem(ScoreRequest(set: .mnist, path: folder)).contains("no .png images"))
        // Images of the wrong size.
        var small: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 20, 0, 0, 0, 3, 0, 0, 0, 3]
        small += [UInt8](repeating: 7, count: 20 * 9)
        try Data(small).write(to: URL(fileURLWithPath: folder + "/small.idx"))
        XCTAssertTrue(problem(ScoreRequest(set: .mnist, path: folder + "/small.idx")).contains("1×3×3 images; the mnist judge reads grey 28×28 images"))
        // Too few images.
        var few: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28]
        few += [UInt8](repeating: 7, count: 2 * 784)
        try Data(few).write(to: URL(fileURLWithPath: folder + "/few.idx"))
        XCTAssertTrue(problem(ScoreRequest(set: .mnist, path: folder + "/few.idx")).contains("2 images; score at least 10"))
        // A truncated file.
        try Data(few.prefix(100)).write(to: URL(fileURLWithPath: folder + "/cut.idx"))
        XCTAssertTrue(problem(ScoreRequest(set: .mnist, path: folder + "/cut.idx")).contains("cut.idx"))
        // A PNG without its grid's shape, and a grid that does not divide.
        let png = folder + "/grid.png"
        try FileManager.default.copyItem(atPath: try firstFigure(), toPath: png)
        XCTAssertTrue(problem(ScoreRequest(set: .mnist, path: png)).contains("say its shape with --grid"))
        XCTAssertTrue(problem(ScoreRequest(set: .mnist, path: png, grid: (7, 13), padding: 3)).contains("do not divide"))
    }

    /// Any PNG the lab draws (a chart is not a grid of 28×28 tiles).
    private func firstFigure() throws -> String {
        let out = temporaryFolder()
        let (result, _) = try runLesson(try lessonPath(1), out: out, stage: "data")
        return try XCTUnwrap(result.figures.first { $0.hasSuffix(".png") })
    }
}
