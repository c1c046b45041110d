import Data
import Foundation
import Kernels
@testable import Lessons
import XCTest

/// `data: points`: a user's CSV of x,y rows as the real data of the toy stages.
final class PointsDataTests: XCTestCase {
    private func lesson(dataFile: String, extra: String = "") -> String {
        """
        ---
        lesson: 41
        title: Points of my own
        summary: For tests.
        seed: 2
        data: points
        data-file: \(dataFile)
        generator: 4 -> 16 relu -> 2
        discriminator: 2 -> 16 leaky -> 1
        batch-size: 16
        \(extra)
        ---
        ## Look
        ```stage
        id: look
        kind: data
        points: 200
        ```
        ## Fit
        ```stage
        id: fit
        kind: train
        epochs: 2
        steps-per-epoch: 2
        ```
        """
    }

    private func write(_ text: String, name: String, in folder: String) throws -> String {
        let path = folder + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testEmpiricalDistributionDrawsOnlyAndEveryOneOfItsPoints() {
        let points = Tensor(shape: [3, 2], scalars: [1, 2, 3, 4, -5, 6])
        var random = RandomSource(seed: 9)
        let drawn = ToyDistribution.empirical(points).sample(count: 3000, using: &random)
        var counts: [Float: Int] = [:]
        for row in 0..<3000 {
            let (x, y) = (drawn[2 * row], drawn[2 * row + 1])
            XCTAssertTrue([(Float(1), Float(2)), (3, 4), (-5, 6)].contains { $0 == (x, y) })
            counts[x, default: 0] += 1
        }
        for x: Float in [1, 3, -5] { XCTAssertEqual(Double(counts[x] ?? 0), 1000, accuracy: 120, "\(x)") }  // ≈ 5 s.d.
    }

    func testALessonTrainsOnAUsersPointsWithAxesFittedToThem() throws {
        let folder = temporaryFolder()
        let csv = try write("x,y\n" + (0..<300).map { "\(100 + Double($0 % 30) * 0.1),\(-20 + Double($0 / 30) * 0.2)" }.joined(separator: "\n"),
                            name: "cloud.csv", in: folder)
        let path = try write(lesson(dataFile: csv), name: "41-points.md", in: folder)
        let (result, printed) = try runLesson(path, out: folder + "/out")
        XCTAssertTrue(printed.contains("points from the points of \(csv)"), printed)
        XCTAssertTrue(result.figures.contains { $0.hasSuffix("stage-2/samples-epoch-0002.png") })
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: result.folder + "/summary.json")))
            as? [String: Any])
        let metrics = try XCTUnwrap((summary["stages"] as? [[String: Any]])?.first?["metrics"] as? [String: Double])
        XCTAssertEqual(try XCTUnwrap(metrics["real_mean_x"]), 101.45, accuracy: 0.2)
        XCTAssertEqual(try XCTUnwrap(metrics["real_mean_y"]), -19.1, accuracy: 0.2)
    }

    func testFittedAxesHoldThePointsWithAMargin() {
        // x in 100…102.9, y in −20…−18.2: far apart, so one range each.
        let values: [Float] = [100, -20, 102.9, -18.2]
        let (x, y) = fittedAxes(values, y: nil)
        XCTAssertTrue(x.lowerBound < 100 && x.upperBound > 102.9 && x.upperBound - x.lowerBound < 5, "\(x)")
        let yRange = try! XCTUnwrap(y)
        XCTAssertTrue(yRange.lowerBound < -20 && yRange.upperBound > -18.2 && yRange.upperBound - yRange.lowerBound < 4, "\(yRange)")
        // A cloud around the origin: one square range for both axes (equal aspect).
        let square = fittedAxes([-1, -0.5, 1, 0.5], y: nil)
        XCTAssertNil(square.y)
        XCTAssertTrue(square.x.lowerBound < -1 && square.x.upperBound > 1, "\(square.x)")
    }

    func testMissingOrMalformedPointsAreRejectedBeforeAnythingRuns() throws {
        let folder = temporaryFolder()
        let missing = try write(lesson(dataFile: folder + "/nowhere.csv"), name: "41-missing.md", in: folder)
        XCTAssertThrowsError(try Lesson(path: missing)) { error in
            XCTAssertTrue("\(error)".contains("nowhere.csv"), "\(error)")
        }
        let bad = try write("x,y\n1,2\n3,four\n", name: "bad.csv", in: folder)
        let malformed = try write(lesson(dataFile: bad), name: "41-bad.md", in: folder)
        XCTAssertThrowsError(try Lesson(path: malformed)) { error in
            XCTAssertTrue("\(error)".contains("bad.csv:3: \"3,four\" is not a point"), "\(error)")
        }
        let none = try write(lesson(dataFile: "none"), name: "41-none.md", in: folder)
        XCTAssertThrowsError(try Lesson(path: none)) { error in
            XCTAssertTrue("\(error)".contains("data: points needs data-file"), "\(error)")
        }
    }
}
