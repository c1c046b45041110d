import Foundation
import Charts
@testable import Lessons
import XCTest

/// `kind: train-images`: a GAN on an image set through the one training loop, with the judge's
/// scores as extra columns of metrics.csv.
final class ImageTrainingTests: XCTestCase {
    let lesson = """
    ---
    lesson: 43
    title: Digits
    summary: For tests.
    seed: 3
    data: mnist
    ---
    ## Train
    ```stage
    id: train
    kind: train-images
    generator:
        16 -> 64 leaky -> batchnorm momentum 0.8 -> 784 tanh -> reshape 1x28x28
    discriminator:
        1x28x28 -> flatten -> 64 leaky -> 1
    noise: normal
    learning-rate: 2e-4
    beta1: 0.5
    batch-size: 32
    epochs: 3
    judge-every: 1
    set-size: 100
    grid-size: 4
    latent-walk: 3
    ```
    """

    func testATinyGANTrainsOnDigitsAndIsJudgedAtSnapshots() throws {
        let folder = temporaryFolder()
        let path = folder + "/43-digits.md"
        try lesson.write(toFile: path, atomically: true, encoding: .utf8)
        let (result, printed) = try runLesson(path, out: folder + "/out")  // quick: 2 epochs of 4 steps
        XCTAssertTrue(printed.contains("judge: FID"), printed)
        for name in ["samples-epoch-0000.png", "samples-epoch-0002.png", "samples.gif", "metrics.png", "judge.png", "latent-walk.png",
                     "generator-modes.png"] {
            XCTAssertTrue(result.figures.contains { $0.hasSuffix("stage-1/" + name) }, name)
        }
        let lines = try String(contentsOfFile: result.folder + "/metrics.csv", encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 1 + 2 * 4)
        let header = lines[0].split(separator: ",").map(String.init)
        let fid = try XCTUnwrap(header.firstIndex(of: "fid_features"))
        XCTAssertNotNil(header.firstIndex(of: "precision"))
        // Scored at the end of each epoch (rows 4 and 8), empty elsewhere.
        let values = lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        XCTAssertEqual(values.map { $0[fid].isEmpty }, [true, true, true, false, true, true, true, false])
        XCTAssertGreaterThan(Double(values[7][fid]) ?? 0, 10)  // eight steps make no digits
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: result.folder + "/summary.json")))
            as? [String: Any])
        let metrics = try XCTUnwrap((summary["stages"] as? [[String: Any]])?.first?["metrics"] as? [String: Double])
        XCTAssertEqual(metrics["steps"], 8)
        XCTAssertNotNil(metrics["final_fid_features"])
        for key in metrics.keys { XCTAssertNotNil(MetricNames.words(key), key) }

        // The generator is saved, and `gan-lab score --checkpoint` judges it.
        let checkpoint = try XCTUnwrap(result.folder + "/stage-1/generator.safetensors")
        var request = ScoreRequest(set: .mnist, path: "")
        request.checkpoint = checkpoint
        request.samples = 100
        let scored = try scoreImages(request) { _ in }
        XCTAssertEqual(scored.scores.count, 100)
        XCTAssertEqual(scored.scores.frechetFeatures, try scoreImages(request) { _ in }.scores.frechetFeatures)  // fixed noise
        XCTAssertGreaterThan(scored.scores.frechetFeatures, scored.ceiling.frechetFeatures)
        func problem(_ request: ScoreRequest) -> String {
            do { _ = try scoreImages(request) { _ in }; return "no error" } catch { return "\(error)" }
        }
        var fashion = request
        fashion.set = .fashionMNIST
        XCTAssertTrue(problem(fashion).contains("a generator of mnist images; score it with --data mnist"))
        let cut = folder + "/cut.safetensors"
        try Data(try Data(contentsOf: URL(fileURLWithPath: checkpoint)).prefix(50)).write(to: URL(fileURLWithPath: cut))
        var damaged = request
        damaged.checkpoint = cut
        XCTAssertTrue(problem(damaged).contains("not a checkpoint the lab can read"), problem(damaged))
        let judges = ImageDataView.dataFolder + "/judges"
        let judgeFile = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: judges).first { $0.hasPrefix("mnist-") })
        var other = request
        other.checkpoint = judges + "/" + judgeFile
        XCTAssertTrue(problem(other).contains("not a generator checkpoint of the lab's"), problem(other))
    }

    func testImageStagesRejectPointsAndPacking() throws {
        let folder = temporaryFolder()
        let path = folder + "/43-digits.md"
        try lesson.replacingOccurrences(of: "data: mnist", with: "data: gaussian").replacingOccurrences(of: "set-size: 100", with: "set-size: 100\npack: 2")
            .write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Lesson(path: path)) { error in
            XCTAssertTrue("\(error)".contains("trains on mnist, fashion-mnist or shapes"), "\(error)")
            XCTAssertTrue("\(error)".contains("pack: packing is for points"), "\(error)")
        }
    }

    /// The step chart's scores panel: one D(G(z)) curve when one pass of G feeds both updates (the
    /// joint step, where the D step's and the G step's scores are the same numbers), two otherwise.
    func testStepChartDrawsOneFakeScoreCurveWhenOnePassFeedsBothUpdates() throws {
        func rows(generatorStepOffset: Float) -> [MetricsRow] {
            (1...4).map { step in
                MetricsRow(stage: 3, step: step, epoch: 1, update: "D+G", discriminatorLoss: 1.3, generatorLoss: 0.8,
                           realAccuracy: 0.6, fakeAccuracy: 0.6, realScore: 0.55, fakeScore: 0.45,
                           generatorStepFakeScore: 0.45 + generatorStepOffset, learningRate: 2e-4)
            }
        }
        func scoreCurves(_ rows: [MetricsRow]) throws -> [String] {
            let panel = try XCTUnwrap(stepChart(rows, title: "t").panels.last as? LineChart)
            return panel.series.map(\.name).filter { !$0.isEmpty }
        }
        XCTAssertEqual(try scoreCurves(rows(generatorStepOffset: 0)), ["D(x)", "D(G(z))"])
        XCTAssertEqual(try scoreCurves(rows(generatorStepOffset: 0.1)), ["D(x)", "D(G(z)), D step", "D(G(z)), G step"])
    }
}
