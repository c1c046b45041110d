import Data
@testable import Evaluation
import Foundation
import Kernels
import XCTest

/// The judge of the lab's coloured shapes: its standard recipe trains in seconds on 64×64 colour
/// images and tells the ten shapes apart on images it never saw.
final class ShapesJudgeTests: XCTestCase {
    func testShapesJudgeIsAccurateOnHeldOutShapesAndCachedUnderItsOwnKey() throws {
        let recipe = JudgeRecipe.standard(for: .shapes)
        XCTAssertTrue(recipe.architecture.hasPrefix("3x64x64 -> "))
        XCTAssertTrue(recipe.architecture.hasSuffix("-> flatten -> 128 relu -> 10"))
        XCTAssertEqual(JudgedSet.shapes.classNames, ShapesSet.classNames)
        XCTAssertEqual(JudgedSet.shapes.imageShape, [3, 64, 64])
        let cache = NSTemporaryDirectory() + "gan-lab-judge-tests/shapes-\(UUID().uuidString.prefix(8))"
        let data = try JudgeData.load(.shapes, recipe: recipe, dataFolder: cache)
        XCTAssertEqual(data.heldOut.count, 500)
        XCTAssertEqual(data.training.count, 4500)
        XCTAssertEqual((0..<10).map { shape in data.heldOut.labels!.filter { $0 == shape }.count }, Array(repeating: 50, count: 10))
        XCTAssertEqual(Set(data.heldOut.labels!.prefix(100)).count, 10, "the held-out images are shuffled: any first hundred hold every class")

        var lines: [String] = []
        let judge = try Judge.load(.shapes, data: data, dataFolder: cache) { lines.append($0) }
        XCTAssertTrue(judge.trainedNow)
        XCTAssertEqual(lines.count, recipe.epochs)
        print("shapes judge: held-out accuracy \(judge.heldOutAccuracy), trained in \(String(format: "%.1f", judge.trainingSeconds)) s")
        XCTAssertGreaterThanOrEqual(judge.heldOutAccuracy, 0.9)
        XCTAssertTrue((judge.path as NSString).lastPathComponent.hasPrefix("shapes-"), judge.path)
        XCTAssertNotEqual(recipe.cacheKey(set: .shapes, trainingImages: 4500, arithmetic: "0"),
                          JudgeRecipe.standard(for: .mnist).cacheKey(set: .mnist, trainingImages: 4500, arithmetic: "0"))

        let judgement = judge.judge(data.heldOut.images.sliced(alongAxis: 0, 0..<32))
        XCTAssertEqual(judgement.features.shape, [32, 128])
        XCTAssertEqual(judgement.probabilities.shape, [32, 10])
        XCTAssertFalse(try Judge.load(.shapes, data: data, dataFolder: cache).trainedNow)
    }
}
