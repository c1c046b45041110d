import Foundation
@testable import Kernels
@testable import Lessons
import XCTest

/// D's feature space on images (`views: features`) and step mode in an image stage.
final class ImageFeatureViewTests: XCTestCase {
    func testTheProjectionReadsDsLogitAndTheRealFeaturesWidestSpreadAcrossIt() {
        // Real features spread widely along e (orthogonal to w), a little along others.
        let (n, d) = (300, 12)
        var random = RandomSource(seed: 7)
        let weight: [Float] = (0..<d).map { $0 == 0 ? 2 : $0 == 1 ? -1 : 0 }
        let e: [Float] = (0..<d).map { $0 == 2 ? 0.6 : $0 == 3 ? 0.8 : 0 }
        var rows: [Float] = []
        for _ in 0..<n {
            let wide = Float(random.normal()) * 5
            rows += (0..<d).map { 1 + wide * e[$0] + Float(random.normal()) * 0.3 }
        }
        let real = Tensor(shape: [n, d], scalars: rows)
        let projection = DecisionProjection(fitting: real, weight: weight, bias: 0.5)
        let dot = { (a: [Float], b: [Float]) in zip(a, b).reduce(Float(0)) { $0 + $1.0 * $1.1 } }
        XCTAssertEqual(dot(projection.spread, weight), 0, accuracy: 1e-4)          // y is across D's decision
        XCTAssertEqual(abs(dot(projection.spread, e)), 1, accuracy: 0.01)         // along the widest real spread
        let (xs, ys) = projection.coordinates(real)
        for i in [0, 17, 299] {
            XCTAssertEqual(xs[i], Double(dot(Array(rows[i * d..<(i + 1) * d]), weight) + 0.5), accuracy: 1e-4)  // x is the logit
        }
        let mean = ys.reduce(0, +) / Double(n)
        let deviation = (ys.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n - 1)).squareRoot()
        XCTAssertEqual(mean, 0, accuracy: 1e-4)
        XCTAssertEqual(deviation, 1, accuracy: 1e-3)  // in standard deviations of the real features
        // After D changes its last layer, x follows the new logit and y keeps its axis.
        let moved = projection.withDecision(weight: weight.map { -$0 }, bias: 0).coordinates(real)
        XCTAssertEqual(moved.xs[5], -(xs[5] - 0.5), accuracy: 1e-4)
        XCTAssertEqual(moved.ys, ys)
    }

    let lesson = """
    ---
    lesson: 44
    title: Digits seen by D
    summary: For tests.
    seed: 5
    data: mnist
    ---
    ## Train
    ```stage
    id: train
    kind: train-images
    generator:
        16 -> 64 leaky -> batchnorm momentum 0.8 -> 784 tanh -> reshape 1x28x28
    discriminator:
        1x28x28 -> flatten -> dropout 0.3 -> 32 leaky -> 1
    noise: normal
    learning-rate: 2e-4
    beta1: 0.5
    batch-size: 32
    epochs: 3
    grid-size: 4
    views: features
    ```
    """

    private func run(_ text: String, answers: [String] = [], overrides: [String] = []) throws -> (RunResult, String) {
        let folder = temporaryFolder()
        let path = folder + "/44-seen.md"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        var options = RunOptions()
        options.outputRoot = folder + "/out"
        options.quick = true
        var printed = "", keys = answers[...]
        let console = Console(write: { printed += $0 }, readLine: answers.isEmpty ? nil : { keys.popFirst() })
        let result = try LessonRunner(lesson: try Lesson(path: path, overrides: overrides), options: options, console: console).run()
        XCTAssertTrue(keys.isEmpty, "unused answers \(keys)")
        return (result, printed)
    }

    func testFeatureFiguresAroundUpdatesAndOverTrainingChangeNoTrainingNumber() throws {
        let (result, printed) = try run(lesson)
        for name in ["features-d-epoch-0001", "features-g-epoch-0002", "features-sequence"] {
            XCTAssertTrue(result.figures.contains { $0.hasSuffix("stage-1/\(name).png") }, name)
        }
        XCTAssertTrue(printed.contains("one generator update: real centroid"), printed)
        XCTAssertTrue(printed.contains("generator updates that moved the centroids closer together: "), printed)
        let (plain, _) = try run(lesson.replacingOccurrences(of: "views: features", with: "views: none"))
        XCTAssertFalse(plain.figures.contains { $0.contains("features") })
        let csv = { (result: RunResult) in try String(contentsOfFile: result.folder + "/metrics.csv", encoding: .utf8) }
        XCTAssertEqual(try csv(result), try csv(plain))  // measuring D's features never moves training

        // The joint schedule's rounds are one update of both, observed as such.
        let (joint, jointPrinted) = try run(lesson, overrides: ["update=joint"])
        XCTAssertTrue(joint.figures.contains { $0.hasSuffix("stage-1/features-joint-epoch-0001.png") })
        XCTAssertTrue(jointPrinted.contains("joint updates that moved the centroids closer together: "), jointPrinted)
    }

    func testStepModeDrawsTheGridAndDsFeaturesAroundEachUpdate() throws {
        // At epoch 1: g, d, b, an unknown key, then Enter (play to the end).
        let (result, printed) = try run(lesson, answers: ["g", "d", "b", "x", ""])
        for name in ["step-00001-g", "step-00001-g-features", "step-00002-d", "step-00002-d-features", "step-00003-both",
                     "step-00003-both-features-d", "step-00003-both-features-g"] {
            XCTAssertTrue(result.figures.contains { $0.hasSuffix("stage-1/\(name).png") }, name)
        }
        XCTAssertTrue(printed.contains("step 1 · G update · G loss "), printed)
        XCTAssertTrue(printed.contains("(\"x\" is not a choice here)"), printed)
        let rows = try String(contentsOfFile: result.folder + "/metrics.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        XCTAssertEqual(rows.prefix(3).map { $0.split(separator: ",", omittingEmptySubsequences: false)[3] }, ["G", "D", "D+G"])
    }

    func testTheFeaturesViewNeedsOneLogitAndKnownViews() throws {
        let folder = temporaryFolder()
        let path = folder + "/44-seen.md"
        try lesson.replacingOccurrences(of: "views: features", with: "views: features, surface")
            .replacingOccurrences(of: "32 leaky -> 1\n", with: "32 leaky -> 2\n").write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Lesson(path: path)) { error in
            XCTAssertTrue("\(error)".contains("unknown view \"surface\""), "\(error)")
            XCTAssertTrue("\(error)".contains("does not end in \"dense 1\""), "\(error)")
        }
    }
}
