import Foundation
@testable import Lessons
import XCTest

/// Networks in lesson files: values over several lines, errors at the line of the layer at fault,
/// networks that must fit the data, and the models stage's Keras summaries.
final class NetworkLessonTests: XCTestCase {
    /// A lesson with one models stage; `header` goes in the front matter, `block` in the stage.
    private func lesson(header: String = "", block: String) -> String {
        "---\nlesson: 61\ntitle: Networks\nsummary: Networks.\n\(header)---\nIntro.\n\n## Models\n```stage\nid: nets\nkind: models\n\(block)\n```\n"
    }

    private func problems(_ text: String, overrides: [String] = []) -> [String] {
        do {
            _ = try Lesson(file: LessonFile(path: "n.md", text: text), overrides: overrides)
            return []
        } catch {
            return (error as? LessonError)?.problems ?? ["\(error)"]
        }
    }

    func testValuesGoOnOverIndentedLines() throws {
        let text = lesson(header: "generator:\n  4\n  -> 8 relu   # hidden\n\n  # the output\n  -> 2 tanh\n",
                          block: "discriminator: 2\n    -> 8 leaky\n\t-> 1\ndata: gaussian")
        let file = LessonFile(path: "n.md", text: text)
        XCTAssertEqual(file.problems, [])
        let generator = try XCTUnwrap(file.header.first { $0.key == "generator" })
        XCTAssertEqual(generator.value, "4 -> 8 relu -> 2 tanh")
        XCTAssertEqual(generator.line, 5)
        XCTAssertEqual(generator.parts.map(\.line), [5, 6, 7, 10])
        XCTAssertEqual(generator.part(atOffset: 5).text, "-> 8 relu")
        let discriminator = try XCTUnwrap(file.stages[0].entries.first { $0.key == "discriminator" })
        XCTAssertEqual(discriminator.value, "2 -> 8 leaky -> 1")
        XCTAssertEqual(discriminator.parts.map(\.line), [18, 19, 20])
        XCTAssertEqual(file.stages[0].entries.map(\.key), ["id", "kind", "discriminator", "data"])
        let plan = try Lesson(file: file).stages[0]
        XCTAssertEqual(plan.settings.text("generator"), "4 -> 8 relu -> 2 tanh")
        XCTAssertEqual(plan.settings.text("discriminator"), "2 -> 8 leaky -> 1")
    }

    func testAnErrorInAMultilineNetworkIsAtItsLine() {
        // A word that is not a layer, in the stage block (line 18) and in the front matter (line 7).
        XCTAssertEqual(problems(lesson(block: "generator:\n  100\n  -> 256 leaky\n  -> 2 tanh\ndiscriminator:\n  2\n  -> 8 leeky\n  -> 1")), [
            "n.md:18: discriminator: layer \"8 leeky\": unknown activation \"leeky\" (expected relu, leaky, leaky 0.1, tanh, sigmoid or linear), "
                + "got \"-> 8 leeky\"",
        ])
        XCTAssertEqual(problems(lesson(header: "generator: 100\n  -> 256 leaky\n  -> conv 2 3x3 strid 2\n",
                                       block: "discriminator: 2 -> 1")), [
            "n.md:7: generator: layer \"conv 2 3x3 strid 2\": unexpected \"strid\" (expected stride N, same, valid, nobias or spectral, "
                + "as in conv 64 5x5 stride 2 same), got \"-> conv 2 3x3 strid 2\"",
        ])
        // A layer that does not fit the one before it: a Dense layer after a convolution.
        XCTAssertEqual(problems(lesson(block: "data: mnist\ngenerator: 100 -> 784 tanh -> reshape 1x28x28\ndiscriminator:\n"
                                       + "  1x28x28 -> conv 8 5x5 stride 2 same -> leaky\n  -> dense 1")), [
            "n.md:16: discriminator: layer \"dense 1\": a Dense layer reads a vector, but the layer before gives 8x14x14 images; "
                + "put flatten before it, got \"-> dense 1\"",
        ])
        // On one line the whole value is quoted, as before.
        XCTAssertEqual(problems(lesson(block: "generator: 2 -> 8 relo -> 2\ndiscriminator: 2 -> 1")), [
            "n.md:12: generator: layer \"8 relo\": unknown activation \"relo\" (expected relu, leaky, leaky 0.1, tanh, sigmoid or linear), "
                + "got \"2 -> 8 relo -> 2\"",
        ])
        // A value that never comes.
        XCTAssertEqual(problems(lesson(block: "generator:\ndiscriminator: 2 -> 1")).first,
                       "n.md:12: generator: expected an input and layers joined by ->, like \"100 -> 256 relu -> 2 tanh\" or "
                       + "\"1x28x28 -> flatten -> 1\", got \"\"")
    }

    func testNetworksMustFitTheData() {
        let mlpGenerator = "generator:\n  100 -> 256 leaky -> batchnorm momentum 0.8\n  -> 784 tanh"
        // A flat generator output and a flat discriminator input are not MNIST's images.
        XCTAssertEqual(problems(lesson(block: "data: mnist\n\(mlpGenerator)\ndiscriminator:\n  784\n  -> 512 leaky -> 1")), [
            "n.md:15: stage nets: mnist images are 1x28x28 (channels x height x width), so the generator must make 1x28x28 images, "
                + "not 784 numbers (end it with reshape 1x28x28)",
            "n.md:17: stage nets: mnist images are 1x28x28 (channels x height x width), so the discriminator must read 1x28x28 images, "
                + "not 784 numbers (write its input as 1x28x28 and flatten it)",
        ])
        // Only the generator is wrong: the problem is at its last layer.
        XCTAssertEqual(problems(lesson(block: "data: fashion-mnist\n\(mlpGenerator)\ndiscriminator: 1x28x28 -> flatten -> 1")), [
            "n.md:15: stage nets: the generator makes 784 numbers but the discriminator reads 1x28x28 images (end the generator with reshape 1x28x28)",
        ])
        // A discriminator that does not end in one logit, and a generator that reads images.
        XCTAssertEqual(problems(lesson(block: "generator: 1x2x2 -> flatten -> 2\ndiscriminator:\n  2\n  -> 16 leaky\n  -> 4")), [
            "n.md:12: stage nets: the generator reads noise vectors, so its input must be a size such as 100, not 1x2x2",
            "n.md:16: stage nets: the discriminator must end in 1 output (a logit), not 4 numbers",
        ])
        // Toy data: 2 numbers; a --set value has no line of its own, so its problem is at the stage's.
        XCTAssertEqual(problems(lesson(block: "generator: 2 -> 8 relu -> 2\ndiscriminator: 2 -> 1"), overrides: ["generator=2 -> 3"]), [
            "n.md:9: stage nets: the generator makes 3 numbers but the discriminator reads 2 numbers",
        ])
        // Colour or grey images of image-size for a user's files.
        XCTAssertEqual(problems(lesson(block: "data: images\nimage-size: 8\ngenerator: 4 -> 192 -> reshape 3x8x8\ndiscriminator: 3x8x8 -> flatten -> 1")), [])
        XCTAssertEqual(problems(lesson(block: "data: images\ngenerator: 4 -> 192 -> reshape 3x8x8\ndiscriminator: 3x8x8 -> flatten -> 1")), [
            "n.md:13: stage nets: the images of data-file are 28x28 (image-size), grey or colour, so the generator must make "
                + "1x28x28 images or 3x28x28 images, not 3x8x8 images",
            "n.md:14: stage nets: the images of data-file are 28x28 (image-size), grey or colour, so the discriminator must read "
                + "1x28x28 images or 3x28x28 images, not 3x8x8 images",
        ])
    }
}
