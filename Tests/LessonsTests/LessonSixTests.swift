import Foundation
@testable import Lessons
import XCTest

/// Lesson 6: the TensorFlow tutorial's DCGAN as written, and with the DCGAN paper's Adam.
final class LessonSixTests: XCTestCase {
    func testTheTutorialsChoicesCountsAndFigures() throws {
        let lesson = try Lesson(path: try lessonPath(6))
        let written = try XCTUnwrap(lesson.stages.first { $0.id == "as-written" }).settings
        XCTAssertEqual(written.text("update"), "joint")
        XCTAssertEqual(written.number("learning-rate"), 1e-4)
        XCTAssertEqual(written.number("beta1"), 0.9)
        XCTAssertEqual(written.integer("batch-size"), 256)
        XCTAssertEqual(written.text("noise"), "normal")
        XCTAssertEqual(written.integer("grid-size"), 4)  // the tutorial's 16 fixed noise vectors
        XCTAssertEqual(written.text("products"), "fastest")
        let faster = try XCTUnwrap(lesson.stages.first { $0.id == "faster" }).settings
        XCTAssertEqual(faster.number("learning-rate"), 2e-4)
        XCTAssertEqual(faster.number("beta1"), 0.5)
        XCTAssertEqual(faster.text("generator"), written.text("generator"))
        XCTAssertEqual(faster.text("discriminator"), written.text("discriminator"))

        let out = temporaryFolder()
        let (result, _) = try runLesson(try lessonPath(6), out: out, quick: true)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: result.folder + "/summary.json")))
            as? [String: Any])
        let stages = try XCTUnwrap(summary["stages"] as? [[String: Any]])
        let models = try XCTUnwrap(stages.first { $0["id"] as? String == "models" }?["metrics"] as? [String: Double])
        XCTAssertEqual(models["generator_parameters"], 2_330_944)
        XCTAssertEqual(models["generator_trainable_parameters"], 2_305_472)
        XCTAssertEqual(models["discriminator_parameters"], 212_865)
        for name in ["stage-3/samples-epoch-0002.png", "stage-3/judge.png", "stage-3/metrics.png", "stage-4/latent-walk.png",
                     "stage-4/samples.gif", "stage-4/generator-modes.png"] {
            XCTAssertTrue(result.figures.contains { $0.hasSuffix(name) }, name)
        }
    }
}
