import Foundation
import GAN
import Kernels
@testable import Lessons
import NN
import XCTest

/// Lesson 6: the TensorFlow tutorial's DCGAN at class time (half width, the DCGAN paper's Adam, batches of 64), as written,
/// and its Keras-style variant.
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
        XCTAssertEqual(written.integer("epochs") * (5_000 / 256), 304)  // the steps the prose states
        // The class-time stage: the DCGAN paper's Adam, batches of 64, half the channels, the rest as written.
        let classTime = try XCTUnwrap(lesson.stages.first { $0.id == "class" }).settings
        XCTAssertEqual(classTime.number("learning-rate"), 2e-4)
        XCTAssertEqual(classTime.number("beta1"), 0.5)
        XCTAssertEqual(classTime.integer("batch-size"), 64)
        XCTAssertEqual(classTime.text("update"), "joint")
        XCTAssertEqual(classTime.text("noise"), "normal")
        XCTAssertEqual(classTime.text("views"), "features")
        XCTAssertEqual(classTime.integer("epochs") * (5_000 / 64), 3_120)  // the steps the prose states
        // The counts the prose states for the half-width networks (trainable, all).
        var random = RandomSource(seed: 1)
        for (role, trainable, all) in [("generator", 896_736, 909_472), ("discriminator", 55_233, 55_233)] {
            let architecture = try Architecture(parsing: classTime.text(role))
            let rows = architecture.build(using: &random).summary(inputShape: [1] + architecture.inputShape)
            XCTAssertEqual(rows.reduce(0) { $0 + $1.trainableCount }, trainable, role)
            XCTAssertEqual(rows.reduce(0) { $0 + $1.parameterCount }, all, role)
        }
        // Half of every hidden width, and nothing else changed.
        let halved = [("generator", [("deconv 64 ", "deconv 32 "), ("deconv 128 ", "deconv 64 "), ("dense 12544", "dense 6272"),
                                     ("256x7x7", "128x7x7")]),
                      ("discriminator", [("conv 64 ", "conv 32 "), ("conv 128 ", "conv 64 ")])]
        for (role, changes) in halved {
            let half = changes.reduce(written.text(role)) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
            XCTAssertEqual(try Architecture(parsing: half).description, try Architecture(parsing: classTime.text(role)).description, role)
        }
        // The Keras-style variant: seed 001's choices, and the counts its prose states (biases add 12,737).
        let keras = try XCTUnwrap(lesson.stages.first { $0.id == "keras-style" }).settings
        XCTAssertEqual(keras.text("update"), "alternating")
        XCTAssertEqual(keras.text("discriminator-halves"), "separately")
        XCTAssertEqual(keras.text("fakes-made-in"), "inference-mode")
        XCTAssertEqual(keras.number("learning-rate"), 2e-4)
        XCTAssertEqual(keras.number("beta1"), 0.5)
        XCTAssertEqual(keras.integer("batch-size"), 256)
        XCTAssertEqual(keras.integer("epochs") * (5_000 / 256), 152)
        for (role, all) in [("generator", 2_343_681), ("discriminator", 212_865)] {
            let architecture = try Architecture(parsing: keras.text(role))
            let rows = architecture.build(using: &random).summary(inputShape: [1] + architecture.inputShape)
            XCTAssertEqual(rows.reduce(0) { $0 + $1.parameterCount }, all, role)
            // The tutorial's layers with biases and slope 0.2, and nothing else changed.
            let written = written.text(role).replacingOccurrences(of: " nobias", with: "").replacingOccurrences(of: "leaky 0.3", with: "leaky 0.2")
            XCTAssertEqual(try Architecture(parsing: written).description, architecture.description, role)
        }

        let out = temporaryFolder()
        let (result, _) = try runLesson(try lessonPath(6), out: out, quick: true)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: result.folder + "/summary.json")))
            as? [String: Any])
        let stages = try XCTUnwrap(summary["stages"] as? [[String: Any]])
        let models = try XCTUnwrap(stages.first { $0["id"] as? String == "models" }?["metrics"] as? [String: Double])
        XCTAssertEqual(models["generator_parameters"], 2_330_944)
        XCTAssertEqual(models["generator_trainable_parameters"], 2_305_472)
        XCTAssertEqual(models["discriminator_parameters"], 212_865)
        for name in ["stage-3/samples-epoch-0002.png", "stage-3/judge.png", "stage-3/metrics.png", "stage-3/latent-walk.png",
                     "stage-3/samples.gif", "stage-3/generator-modes.png", "stage-3/features-sequence.png",
                     "stage-4/samples-epoch-0002.png", "stage-4/judge.png", "stage-5/samples-epoch-0002.png", "stage-5/judge.png"] {
            XCTAssertTrue(result.figures.contains { $0.hasSuffix(name) }, name)
        }
    }

    /// The class-time stage's claim, as a rate over seeds: digits the judge recognises (FID, classes
    /// holding a fair share, the share classified with confidence) on most seeds, on any machine. Seeds
    /// 1–6 on one machine ended at FID 50–96, all 10 classes and 41–60 % confident; the bounds leave room.
    func testClassTimeStageMakesDigitsOnMostSeeds() throws {
        #if DEBUG
        throw XCTSkip("full-length training runs in release mode: swift test -c release")
        #else
        // Figures off (they change no training number); the judge once, at the end.
        let lesson = try Lesson(path: lessonPath(6), overrides: ["class.views=none", "class.latent-walk=0",
                                                                  "class.snapshot-every=40", "class.judge-every=40"])
        let runs = try Sweep(lesson: lesson, stage: "class", seeds: [1, 2, 3])
            .run(outputRoot: temporaryFolder(), quick: false, threads: RunOptions().threads) { _ in }
        let scores = runs.map { run in (fid: run.metrics["final_fid_features"] ?? .infinity,
                                        classes: run.metrics["final_classes_with_fair_share"] ?? 0,
                                        confident: run.metrics["final_confident_share"] ?? 0) }
        let digits = scores.filter { $0.fid <= 120 && $0.classes >= 8 && $0.confident >= 0.3 }
        XCTAssertGreaterThanOrEqual(digits.count, 2, "\(scores)")
        #endif
    }
}
