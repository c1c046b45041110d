import Foundation
@testable import Lessons
import XCTest

/// Lesson 7: each number catches what the lesson says it catches (the judge trains and judges on
/// the portable kernels and the sets come from the seed, so these numbers are the same everywhere).
final class LessonSevenTests: XCTestCase {
    func testCeilingsBeatFloorsAndEachFailureShowsWhereTheLessonSays() throws {
        let out = temporaryFolder()
        let (result, printed) = try runLesson(try lessonPath(7), out: out, quick: false, stage: "judge",
                                         overrides: ["judge.set-size=300", "learning.epochs=1", "learning.judge-every=0"])
        XCTAssertTrue(printed.contains("seed 000's formulas on the same sets"))
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: result.folder + "/summary.json")))
            as? [String: Any])
        let stage = (summary["stages"] as? [[String: Any]])?.first { $0["id"] as? String == "judge" }
        let m = try XCTUnwrap(stage?["metrics"] as? [String: Double])
        func value(_ key: String) throws -> Double { try XCTUnwrap(m[key], key) }
        XCTAssertGreaterThanOrEqual(try value("judge_accuracy"), 0.97)
        // Fréchet distance: real < noisy < blurred < noise; Inception-style score the other way round.
        XCTAssertLessThan(try value("real_fid_features"), try value("noisy_fid_features"))
        XCTAssertLessThan(try value("noisy_fid_features"), try value("blurred_fid_features"))
        XCTAssertLessThan(try value("blurred_fid_features"), try value("noise_fid_features"))
        XCTAssertGreaterThan(try value("real_inception_score"), try value("blurred_inception_score"))
        XCTAssertGreaterThan(try value("blurred_inception_score"), try value("noise_inception_score"))
        // Precision: real images (blurred, one class) stay high; noise does not. Recall: only the full, sharp sets keep it.
        XCTAssertGreaterThan(try value("one_class_precision"), 0.8)
        XCTAssertLessThan(try value("noise_precision"), 0.3)
        XCTAssertLessThan(try value("one_class_recall"), 0.05)
        XCTAssertLessThan(try value("blurred_recall"), try value("real_recall") - 0.3)
        // The class histogram: 10 at the ceiling, 5 for half the classes, at most 2 for one class.
        XCTAssertEqual(try value("real_classes_with_fair_share"), 10)
        XCTAssertEqual(try value("half_the_classes_classes_with_fair_share"), 5)
        XCTAssertLessThanOrEqual(try value("one_class_classes_with_fair_share"), 2)
        XCTAssertLessThan(try value("one_class_inception_score"), 1.5)
        // Seed 000's Inception score rates the repeated class above the real digits.
        XCTAssertGreaterThan(try value("one_class_seed000_inception_score"), try value("real_seed000_inception_score"))
        for name in ["sets", "scores", "precision-recall", "classes"] {
            XCTAssertTrue(result.figures.contains { $0.hasSuffix("stage-2/\(name).png") }, name)
        }
    }

    /// The generator judged while it learns (portable kernels: the same numbers on every machine).
    func testTheJudgeSeesTheGeneratorLearn() throws {
        let out = temporaryFolder()
        let (result, _) = try runLesson(try lessonPath(7), out: out, quick: false, stage: "learning")
        let lines = try String(contentsOfFile: result.folder + "/metrics.csv", encoding: .utf8).split(separator: "\n").map(String.init)
        let header = lines[0].split(separator: ",").map(String.init)
        let (fid, classes, precision, recall) = try (XCTUnwrap(header.firstIndex(of: "fid_features")), XCTUnwrap(header.firstIndex(of: "classes_with_fair_share")),
                                                     XCTUnwrap(header.firstIndex(of: "precision")), XCTUnwrap(header.firstIndex(of: "recall")))
        let judged = lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            .filter { !$0[fid].isEmpty }
        XCTAssertEqual(judged.count, 6)  // epochs 5, 10, …, 30 (epoch 0 is before any step)
        let distances = judged.map { Double($0[fid])! }
        XCTAssertLessThan(distances.last!, 0.5 * distances.first!)
        XCTAssertGreaterThan(distances.last!, 20)  // far from the ceiling of about 3
        let last = judged.last!
        XCTAssertGreaterThanOrEqual(Double(last[classes])!, 8)
        XCTAssertGreaterThan(Double(last[precision])!, 0.5)
        XCTAssertLessThan(Double(last[recall])!, 0.2)
        XCTAssertTrue(result.figures.contains { $0.hasSuffix("judge.png") })
    }
}
