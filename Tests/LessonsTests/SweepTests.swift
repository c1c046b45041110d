import Foundation
@testable import Lessons
import XCTest

final class SweepTests: XCTestCase {
    func testSeedListsParse() {
        XCTAssertEqual(parseSeeds("1-4"), [1, 2, 3, 4])
        XCTAssertEqual(parseSeeds("3"), [3])
        XCTAssertEqual(parseSeeds("1,4, 9"), [1, 4, 9])
        XCTAssertEqual(parseSeeds("1-3,7,2"), [1, 2, 3, 7])
        for bad in ["", "a", "5-2", "1-", "-3", "1,,x"] { XCTAssertNil(parseSeeds(bad), bad) }
    }

    func testStatisticsAreTheMeanAndItsStandardError() {
        let statistics = Sweep.Statistics([1, 0, 1, 1, 0])
        XCTAssertEqual(statistics.mean, 0.6, accuracy: 1e-12)
        XCTAssertEqual(statistics.standardError, (0.3 / 5).squareRoot(), accuracy: 1e-12)  // sample variance 0.3
        XCTAssertEqual(statistics.lowest, 0)
        XCTAssertEqual(statistics.highest, 1)
        XCTAssertEqual(Sweep.Statistics([4]).standardError, 0)
    }

    /// Each seed's numbers are those of a lesson run with that seed, started at that stage, and
    /// do not depend on how many seeds run side by side.
    func testEachSeedIsTheLessonRunWithThatSeed() throws {
        let lesson = try Lesson(path: lessonPath(4))
        let sweep = try Sweep(lesson: lesson, stage: "collapse", seeds: [3, 5])
        let together = try sweep.run(outputRoot: temporaryFolder(), quick: true, threads: 2) { _ in }
        let alone = try sweep.run(outputRoot: temporaryFolder(), quick: true, threads: 1) { _ in }
        XCTAssertEqual(together.map(\.seed), [3, 5])
        XCTAssertEqual(together.map { $0.metrics.filter { !$0.key.contains("seconds") } },
                       alone.map { $0.metrics.filter { !$0.key.contains("seconds") } })
        let lessonRun = try runLesson(lessonPath(4), out: temporaryFolder(), seed: 5, stage: "collapse",
                                      overrides: ["packed.steps=1", "scoreboard.seeds=1", "scoreboard.methods=vanilla"])
        let metrics = try XCTUnwrap(lessonRun.result.metrics["collapse"])
        for (name, value) in together[1].metrics where !name.contains("seconds") { XCTAssertEqual(metrics[name], value, name) }
        XCTAssertNotNil(together[0].metrics["collapsed"])
        let csv = Sweep.csv(together, metrics: ["modes_captured"])
        XCTAssertEqual(csv.split(separator: "\n").first, "seed,modes_captured")
        XCTAssertEqual(csv.split(separator: "\n").count, 3)
    }

    func testUnknownStageIsNamed() throws {
        let lesson = try Lesson(path: lessonPath(4))
        XCTAssertThrowsError(try Sweep(lesson: lesson, stage: "nope", seeds: [1])) { error in
            XCTAssertTrue((error as? LessonError)?.problems.first?.contains("no stage \"nope\"") ?? false)
        }
    }
}
