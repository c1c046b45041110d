import Foundation
@testable import Lessons
import XCTest

/// Lesson 5: the Fashion-MNIST tutorial as written, its imbalance, and the fix that beats it.
/// The lesson runs on the portable kernels (a seed gives the same numbers everywhere); its claims
/// about training are still checked as rates over seeds, as claims about chance are.
final class LessonFiveTests: XCTestCase {
    private func metrics(_ result: RunResult, stage id: String) throws -> [String: Double] {
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: result.folder + "/summary.json")))
            as? [String: Any])
        let stage = (summary["stages"] as? [[String: Any]])?.first { $0["id"] as? String == id }
        return try XCTUnwrap(stage?["metrics"] as? [String: Double], id)
    }

    /// The lesson file states the tutorial's choices, and the models are Keras's counts.
    func testTheTutorialAsWritten() throws {
        let lesson = try Lesson(path: try lessonPath(5))
        let stage = try XCTUnwrap(lesson.stages.first { $0.id == "as-written" })
        let s = stage.settings
        XCTAssertEqual(s.integer("epochs") * s.integer("epoch-steps"), 10_000)
        XCTAssertEqual(s.integer("epoch-steps"), 1_000)  // the tutorial prints and shows its grid every 1,000 iterations
        XCTAssertEqual(s.integer("batch-size"), 64)
        XCTAssertEqual(s.text("batches"), "with-replacement")
        XCTAssertEqual(s.text("discriminator-halves"), "separately")
        XCTAssertEqual(s.text("fakes-made-in"), "inference-mode")
        XCTAssertEqual(s.text("noise"), "normal")
        XCTAssertEqual(s.number("learning-rate"), 1e-3)
        XCTAssertEqual(s.number("beta1"), 0.9)
        XCTAssertEqual(s.number("beta2"), 0.999)
        XCTAssertEqual(s.number("epsilon"), 1e-7)
        XCTAssertEqual(s.integer("last-fakes-grid"), 2)

        let out = temporaryFolder()
        let (result, _) = try runLesson(try lessonPath(5), out: out, quick: true)
        let models = try metrics(result, stage: "models")
        XCTAssertEqual(models["generator_parameters"], 1_493_520)
        XCTAssertEqual(models["generator_trainable_parameters"], 1_489_936)
        XCTAssertEqual(models["discriminator_parameters"], 533_505)
        // The training stage: the judge's columns and G's two modes in metrics.csv, and its figures.
        let header = try String(contentsOfFile: result.folder + "/metrics.csv", encoding: .utf8).split(separator: "\n")[0]
        for column in ["d_g_z_g_step", "fid_features", "precision", "recall", "coverage", "confident_share", "mode_gap", "d_fakes_inference"] {
            XCTAssertTrue(header.split(separator: ",").contains(Substring(column)), column)
        }
        for name in ["samples-epoch-0002.png", "last-fakes-epoch-0002.png", "samples.gif", "metrics.png", "judge.png", "generator-modes.png",
                     "comparison.png", "grids.png"] {
            XCTAssertTrue(result.figures.contains { $0.hasSuffix("/" + name) }, name)
        }
        let fixes = try metrics(result, stage: "fixes")
        for variant in ["as-written", "dcgan-adam", "smoothing", "bn-fixed", "best"] {
            XCTAssertNotNil(fixes["compare_\(variant)_fid_features_mean"], variant)
        }
        for key in Array(try metrics(result, stage: "as-written").keys) + Array(fixes.keys) { XCTAssertNotNil(MetricNames.words(key), key) }
    }

    /// As written, D wins within the first thousand steps and G's fakes stay rejected; the best
    /// recipe keeps the game open and beats the tutorial on the judge's distance and coverage, in
    /// at least two of three seeds.
    func testTheDiscriminatorWinsAsWrittenAndTheBestRecipeBeatsIt() throws {
        let out = temporaryFolder()
        let lesson = try Lesson(path: try lessonPath(5))
        let variants = try XCTUnwrap(lesson.stages.first { $0.id == "fixes" }).settings.text("variants")
        let best = try XCTUnwrap(variants.split(separator: ";").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("best:") })
        let (result, _) = try runLesson(try lessonPath(5), out: out, quick: false, stage: "fixes",
                                        overrides: ["fixes.seeds=3", "fixes.epoch-steps=1000", "fixes.variants=as-written; \(best)"])
        let m = try metrics(result, stage: "fixes")
        func value(_ key: String) throws -> Double { try XCTUnwrap(m[key], key) }
        XCTAssertGreaterThanOrEqual(try value("compare_as-written_discriminator_accuracy_mean"), 0.9)
        XCTAssertLessThan(try value("compare_as-written_d_g_z_mean"), 0.1)
        XCTAssertLessThan(try value("compare_best_discriminator_accuracy_mean"), 0.85)
        XCTAssertGreaterThan(try value("compare_best_d_g_z_mean"), 0.2)
        XCTAssertGreaterThanOrEqual(try value("compare_best_beats_baseline"), 2)
        XCTAssertLessThan(try value("compare_best_fid_features_mean"), try value("compare_as-written_fid_features_mean"))
    }

    /// A variant names known settings with valid values, or the lesson does not load.
    func testVariantsAreCheckedWhenTheLessonLoads() throws {
        let (parsed, fine) = CompareImagesStage.variants("as-written; tuned: learning-rate=2e-4 beta1=0.5")
        XCTAssertTrue(fine.isEmpty)
        XCTAssertEqual(parsed.map(\.name), ["as-written", "tuned"])
        XCTAssertEqual(parsed[1].changes.map(\.key), ["learning-rate", "beta1"])
        for (text, expected) in [("a: learning-rate=fast", "variants: a: learning-rate: expected a number"),
                                 ("a: epochs=3", "variants: a: epochs is not a setting a variant can change"),
                                 ("a: learning-rate", "variants: a: expected key=value"),
                                 ("a; a", "variants: a is named twice"),
                                 ("b c: beta1=0.5", "should start with a name")] {
            let problems = CompareImagesStage.variants(text).problems
            XCTAssertTrue(problems.contains { $0.contains(expected) }, "\(text): \(problems)")
        }
        // Settings that do not fit together are caught per variant.
        XCTAssertThrowsError(try Lesson(path: try lessonPath(5), overrides: ["fixes.variants=x: update=joint"])) { error in
            XCTAssertTrue("\(error)".contains("variants: x: fakes-made-in: inference-mode needs update: alternating or phases"), "\(error)")
        }
    }

    func testFirstSaturatedStep() {
        func rows(_ accuracies: [Float]) -> [MetricsRow] {
            accuracies.enumerated().map { index, accuracy in
                MetricsRow(stage: 1, step: index + 1, epoch: 1, update: "D+G", discriminatorLoss: 0, generatorLoss: 0, realAccuracy: accuracy,
                           fakeAccuracy: accuracy, realScore: 0, fakeScore: 0, generatorStepFakeScore: 0, learningRate: 0)
            }
        }
        XCTAssertEqual(ImageTrainStage.firstSaturatedStep(rows([Float](repeating: 1, count: 10)), window: 4), 4)
        XCTAssertEqual(ImageTrainStage.firstSaturatedStep(rows([0, 0, 0, 0, 1, 1, 1, 1, 1, 1]), window: 4), 8)
        XCTAssertNil(ImageTrainStage.firstSaturatedStep(rows([1, 1, 1, 1, 1, 1, 0, 0, 0, 0]), window: 4))
        XCTAssertNil(ImageTrainStage.firstSaturatedStep(rows([1, 1]), window: 4))
    }
}
