import Data
@testable import Evaluation
import Foundation
import Kernels
import NN
import XCTest

/// The judges: trained on first use, cached, and accurate on images they never saw.
final class JudgeTests: XCTestCase {
    /// The repository's data/ folder (scripts/setup.sh fills it), or GAN_LAB_DATA.
    static let dataFolder: String = {
        if let configured = ProcessInfo.processInfo.environment["GAN_LAB_DATA"] { return configured }
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("data").path
    }()

    private func scratch(_ name: String = #function) -> String {
        let path = NSTemporaryDirectory() + "gan-lab-judge-tests/\(name.filter { $0.isLetter })-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func testMNISTJudgeIsAccurateOnHeldOutDigitsAndIsCached() throws {
        let data = try JudgeData.load(.mnist, recipe: .standard(for: .mnist), dataFolder: Self.dataFolder)
        XCTAssertEqual(data.heldOut.count, 500)
        XCTAssertEqual(data.training.count + data.heldOut.count, 5000)
        // Stratified: 50 of each digit.
        XCTAssertEqual((0..<10).map { digit in data.heldOut.labels!.filter { $0 == digit }.count }, Array(repeating: 50, count: 10))
        let cache = scratch()
        // A judge cached by an earlier build (another key) goes when the new one is cached; another
        // set's judge and files not named as the lab names judges stay.
        let judges = cache + "/judges", keptNames = ["fashion-mnist-0123456789abcdef.safetensors", "mnist-notes.safetensors"]
        try FileManager.default.createDirectory(atPath: judges, withIntermediateDirectories: true)
        for name in keptNames + ["mnist-0123456789abcdef.safetensors"] {
            try Data("old".utf8).write(to: URL(fileURLWithPath: judges + "/" + name))
        }
        var lines: [String] = []
        let judge = try Judge.load(.mnist, data: data, dataFolder: cache) { lines.append($0) }
        XCTAssertTrue(judge.trainedNow)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: judges)),
                       Set(keptNames + [(judge.path as NSString).lastPathComponent]))
        // One progress line an epoch, then the removal.
        XCTAssertEqual(lines.count, judge.recipe.epochs + 1, "\(lines)")
        XCTAssertTrue(lines.last?.hasPrefix("removed the judge cached for an earlier recipe or build: ") ?? false, "\(lines)")
        XCTAssertTrue(lines.dropLast().last?.contains("epoch 15/15 · cross-entropy ") ?? false, "\(lines)")
        let accuracy = judge.accuracy(on: data.heldOut)
        print("MNIST judge: held-out accuracy \(accuracy), trained in \(judge.trainingSeconds) s")
        XCTAssertGreaterThanOrEqual(accuracy, 0.97)

        // Read back from the cache: the same judgement, bit for bit.
        let cached = try Judge.load(.mnist, data: data, dataFolder: cache)
        XCTAssertFalse(cached.trainedNow)
        XCTAssertEqual(cached.heldOutAccuracy, accuracy)  // measured once, kept in the cache
        let images = data.heldOut.images.sliced(alongAxis: 0, 0..<64)
        let (a, b) = (judge.judge(images), cached.judge(images))
        XCTAssertEqual(a.features.scalars, b.features.scalars)
        XCTAssertEqual(a.features.shape, [64, 128])
        XCTAssertEqual(a.probabilities.shape, [64, 10])

    }

    /// A damaged cache, or one made for another recipe, is said and replaced, never used.
    func testDamagedOrStaleCachesAreReplaced() throws {
        let data = try JudgeData.load(.mnist, recipe: .standard(for: .mnist), dataFolder: Self.dataFolder)
        let cache = scratch(), short = JudgeRecipe(epochs: 1, heldOutPerClass: 50)
        let first = try Judge.load(.mnist, data: data, recipe: short, dataFolder: cache)
        XCTAssertTrue(first.trainedNow)
        let whole = try Data(contentsOf: URL(fileURLWithPath: first.path))
        try whole.prefix(100).write(to: URL(fileURLWithPath: first.path))
        var said: [String] = []
        let retrained = try Judge.load(.mnist, data: data, recipe: short, dataFolder: cache) { said.append($0) }
        XCTAssertTrue(retrained.trainedNow)
        XCTAssertTrue(said.contains { $0.contains("cannot be used") }, "\(said)")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: first.path)).count, whole.count)  // replaced whole

        // Another recipe's weights under this recipe's name: the key in the file tells them apart.
        var other = short
        other.seed = 2
        let stranger = try Judge.load(.mnist, data: data, recipe: other, dataFolder: cache)
        try FileManager.default.removeItem(atPath: first.path)
        try FileManager.default.copyItem(atPath: stranger.path, toPath: first.path)
        said = []
        XCTAssertTrue(try Judge.load(.mnist, data: data, recipe: short, dataFolder: cache) { said.append($0) }.trainedNow)
        XCTAssertTrue(said.contains { $0.contains("another recipe") }, "\(said)")
        XCTAssertFalse(try Judge.load(.mnist, data: data, recipe: short, dataFolder: cache).trainedNow)
    }

    /// The cache key names the arithmetic that trains the judge: its fingerprint is the same on one
    /// thread and on two (every machine names the same cache), changes when the training's numbers
    /// change (here another learning rate), and a key with another fingerprint is another key.
    func testCacheKeyCarriesTheArithmeticFingerprint() throws {
        defer { resetMatrixThreads() }
        let recipe = JudgeRecipe.standard(for: .mnist)
        let fingerprints = try [1, 2].map { threads in
            setMatrixThreads(threads)
            return try Judge.probeArithmetic(recipe, imageShape: [1, 28, 28], images: 84)
        }
        XCTAssertEqual(fingerprints[0], fingerprints[1])
        XCTAssertEqual(try Judge.arithmeticFingerprint(recipe, imageShape: [1, 28, 28], trainingImages: 4500), fingerprints[0])
        var faster = recipe
        faster.learningRate = 2e-3
        XCTAssertNotEqual(try Judge.probeArithmetic(faster, imageShape: [1, 28, 28], images: 84), fingerprints[0])
        XCTAssertNotEqual(try Judge.probeArithmetic(recipe, imageShape: [1, 28, 28], images: 128), fingerprints[0])
        XCTAssertNotEqual(recipe.cacheKey(set: .mnist, trainingImages: 4500, arithmetic: fingerprints[0]),
                          recipe.cacheKey(set: .mnist, trainingImages: 4500, arithmetic: "0"))
    }

    func testShiftsMoveImagesWithinTheirFrame() {
        var random = RandomSource(seed: 3)
        let image = Tensor(shape: [1, 1, 5, 5], scalars: (0..<25).map(Float.init))
        for _ in 0..<20 {
            let moved = shiftedRandomly(image, upTo: 2, using: &random)
            // Every value is either background or the original pixel value it came from, in order.
            let kept = moved.scalars.filter { $0 >= 0 }
            XCTAssertEqual(kept, kept.sorted())
            XCTAssertGreaterThanOrEqual(kept.count, 9)  // at least the 3×3 centre stays in the frame
        }
        XCTAssertEqual(shiftedRandomly(image, upTo: 0, using: &random).scalars, image.scalars)
    }

    func testFashionJudgeIsAccurateOnTheTestSet() throws {
        let data = try JudgeData.load(.fashionMNIST, recipe: .standard(for: .fashionMNIST), dataFolder: Self.dataFolder)
        XCTAssertEqual(data.heldOut.count, 10_000)
        let judge = try Judge.load(.fashionMNIST, data: data, dataFolder: Self.dataFolder)  // the cache the lab uses
        let accuracy = judge.accuracy(on: data.heldOut)
        print("Fashion-MNIST judge: test accuracy \(accuracy), trained in \(judge.trainingSeconds) s")
        XCTAssertGreaterThanOrEqual(accuracy, 0.90)
    }
}
