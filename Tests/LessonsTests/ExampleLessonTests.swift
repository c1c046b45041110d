import Foundation
@testable import Lessons
import XCTest

/// Lessons/examples/dcgan-models.md: the image sets and the tutorials' networks in the grammar.
final class ExampleLessonTests: XCTestCase {
    /// The example lesson's models stages print Keras's counts and put them in the metrics.
    func testExampleLessonPrintsTheTutorialsCounts() throws {
        let path = lessonsFolder + "/examples/dcgan-models.md"
        let out = temporaryFolder()
        let (result, printed) = try runLesson(path, out: out, stage: "dcgan")
        XCTAssertEqual(result.metrics["dcgan"], [
            "generator_parameters": 2_330_944, "generator_trainable_parameters": 2_305_472, "generator_non_trainable_parameters": 25_472,
            "discriminator_parameters": 212_865, "discriminator_trainable_parameters": 212_865, "discriminator_non_trainable_parameters": 0,
        ])
        XCTAssertEqual(result.metrics["mlp"], [
            "generator_parameters": 1_493_520, "generator_trainable_parameters": 1_489_936, "generator_non_trainable_parameters": 3_584,
            "discriminator_parameters": 533_505, "discriminator_trainable_parameters": 533_505, "discriminator_non_trainable_parameters": 0,
        ])
        for line in ["    Dense                (None, 12544)            1,254,400",
                     "    BatchNormalization   (None, 12544)               50,176",
                     "    Conv2DTranspose      (None, 1, 28, 28)            1,600",
                     "    Total parameters                              2,330,944",
                     "      trainable                                   2,305,472",
                     "      non-trainable (BatchNorm statistics)           25,472",
                     "    Flatten              (None, 6272)                     0",
                     "    Reshape              (None, 1, 28, 28)                0"] {
            XCTAssertTrue(printed.contains(line + "\n"), line)
        }
    }

    /// The whole example, data stages included, where the data sets are installed.
    func testExampleLessonRunsInQuickMode() throws {
        guard FileManager.default.fileExists(atPath: ImageDataView.dataFolder + "/mnist_5k.csv.gz"),
              FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist") else {
            throw XCTSkip("run scripts/setup.sh first: it fetches the MNIST digits and installs Fashion-MNIST")
        }
        let out = temporaryFolder()
        let (result, _) = try runLesson(lessonsFolder + "/examples/dcgan-models.md", out: out)
        XCTAssertEqual(result.figures.map { ($0 as NSString).lastPathComponent }, ["samples.png", "classes.png", "samples.png", "classes.png"])
        XCTAssertEqual(result.metrics["digits"]?["images"], 5000)
        XCTAssertEqual(result.metrics["clothes"]?["images"], 60000)
    }
}
