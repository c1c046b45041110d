import Foundation
@testable import Lessons
import XCTest

final class LessonFileTests: XCTestCase {
    let good = """
    ---
    lesson: 7
    title: A tiny lesson
    summary: One line.
    seed: 3
    learning-rate: 1e-3
    ---
    Intro text.

    ## Look at the data
    Before the block.
    ```stage
    id: look
    kind: data
    points: 50   # a comment
    ```
    After the block.

    ## Train
    ```stage
    id: fit
    kind: train
    generator: 2 -> 8 relu -> 2
    discriminator: 2 -> 8 leaky -> 1
    epochs: 3
    ```
    """

    func testParsesFrontMatterStagesAndProse() throws {
        let lesson = try Lesson(file: LessonFile(path: "tiny.md", text: good))
        XCTAssertEqual(lesson.number, 7)
        XCTAssertEqual(lesson.seed, 3)
        XCTAssertEqual(lesson.introduction, "Intro text.")
        XCTAssertEqual(lesson.stages.map(\.id), ["look", "fit"])
        XCTAssertEqual(lesson.stages[0].introduction, "Before the block.")
        XCTAssertEqual(lesson.stages[0].conclusion, "After the block.")
        XCTAssertEqual(lesson.stages[0].settings.integer("points"), 50)
        XCTAssertEqual(lesson.stages[1].settings.number("learning-rate"), 1e-3)  // from the front matter
        XCTAssertEqual(lesson.stages[1].settings.integer("batch-size"), 64)      // the kind's default
        XCTAssertNil(lesson.stages[0].settings.effective["learning-rate"])       // data stages do not read it
    }

    func testOverridesApplyToOneStageOrToAll() throws {
        let file = LessonFile(path: "tiny.md", text: good)
        let lesson = try Lesson(file: file, overrides: ["fit.epochs=9", "points=70", "learning-rate=0.01"])
        XCTAssertEqual(lesson.stages[1].settings.integer("epochs"), 9)
        XCTAssertEqual(lesson.stages[0].settings.integer("points"), 70)
        XCTAssertEqual(lesson.stages[1].settings.integer("points"), 70)
        XCTAssertEqual(lesson.stages[1].settings.number("learning-rate"), 0.01)
        XCTAssertEqual(lesson.overrides, ["fit.epochs=9", "points=70", "learning-rate=0.01"])
        XCTAssertThrowsError(try Lesson(file: file, overrides: ["look.epochs=2"])) { error in
            XCTAssertEqual("\(error)", "--set look.epochs=2: stage \"look\" does not read epochs")
        }
        XCTAssertThrowsError(try Lesson(file: file, overrides: ["nope.epochs=2", "epochs"])) { error in
            XCTAssertEqual((error as? LessonError)?.problems, [
                "--set nope.epochs=2: no stage \"nope\" (stages: look, fit)",
                "--set epochs: expected key=value or stage.key=value",
            ])
        }
    }

    func testEveryProblemIsListedWithFileAndLine() {
        let bad = """
        ---
        lesson: 7
        title: Broken
        sumary: typo
        ---
        ## One
        ```stage
        id: one
        kind: train
        learning-rate: fast
        epochz: 3
        generator: 2 -> 8 relo -> 2
        discriminator: 2 -> 8 leaky -> 1
        ```
        ## Two
        ```stage
        id: one
        kind: dance
        ```
        ## Three
        text but no block
        """
        XCTAssertThrowsError(try Lesson(file: LessonFile(path: "bad.md", text: bad))) { error in
            XCTAssertEqual((error as? LessonError)?.problems, [
                "bad.md:1: the front matter needs `summary:`",
                "bad.md:4: unknown setting \"sumary\" (did you mean \"summary\"?)",
                "bad.md:10: learning-rate: expected a number such as 0.5 or 2e-4, got \"fast\"",
                "bad.md:11: unknown setting \"epochz\" (did you mean \"epochs\"?)",
                "bad.md:12: generator: layer \"8 relo\": unknown activation \"relo\" (expected relu, leaky, leaky 0.1, tanh, sigmoid or linear), got \"2 -> 8 relo -> 2\"",
                "bad.md:16: id \"one\" is already used by stage 1",
                "bad.md:18: kind: expected one of \(stageKindNames.joined(separator: ", ")), got \"dance\"",
                "bad.md:20: stage \"Three\" has no ```stage block (id, kind and settings)",
                "bad.md:20: stage \"Three\" needs `id:` (a short name for --stage and --set)",
                "bad.md:20: stage \"Three\" needs `kind:` (one of \(stageKindNames.joined(separator: ", ")))",
            ])
        }
    }

    func testModelsThatDoNotFitTogetherAreRejected() {
        let text = good.replacingOccurrences(of: "generator: 2 -> 8 relu -> 2", with: "generator: 2 -> 8 relu -> 3")
        XCTAssertThrowsError(try Lesson(file: LessonFile(path: "tiny.md", text: text))) { error in
            // At the generator's last layer: the discriminator reads what the data are.
            XCTAssertEqual("\(error)", "tiny.md:23: stage fit: the generator makes 3 numbers but the discriminator reads 2 numbers")
        }
    }

    func testMutatedLessonFilesNeverTrap() throws {
        let original = try String(contentsOfFile: lessonPath(1), encoding: .utf8)
        var random = SystemRandomNumberGenerator()
        let pieces = ["```", "```stage", "---", "## ", ":", "kind: train", "epochs: -1", "\n", "id: x", "axes: 3..-3", "->", ""]
        for _ in 0..<300 {
            var lines = original.components(separatedBy: "\n")
            for _ in 0..<3 {
                let index = Int.random(in: 0..<lines.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: lines.remove(at: index)
                case 1: lines.insert(pieces.randomElement(using: &random)!, at: index)
                default: lines[index] = String(lines[index].shuffled(using: &random))
                }
            }
            _ = try? Lesson(file: LessonFile(path: "mutated.md", text: lines.joined(separator: "\n")))
        }
    }

    func testCatalogListsLessonsAndRejectsUnknownNumbers() throws {
        let catalog = LessonCatalog(folder: lessonsFolder)
        XCTAssertEqual(try catalog.entries().first?.title, "A first GAN on a 2-D Gaussian")
        XCTAssertThrowsError(try catalog.path(ofLesson: 42)) { error in
            XCTAssertTrue("\(error)".hasPrefix("there is no lesson 42; the lessons are 1"), "\(error)")
        }
    }

    func testUnwritableOutputFolderIsAClearError() throws {
        let blocker = temporaryFolder() + "/file"
        _ = FileManager.default.createFile(atPath: blocker, contents: Data())
        XCTAssertThrowsError(try runLesson(lessonPath(1), out: blocker)) { error in
            XCTAssertTrue("\(error)".hasPrefix("cannot create the folder \(blocker)/lesson-01 (Not a directory)"), "\(error)")
            XCTAssertTrue("\(error)".hasSuffix("choose another with --out"), "\(error)")
        }
    }

    func testUnknownStartStageIsAClearError() throws {
        XCTAssertThrowsError(try runLesson(lessonPath(1), out: temporaryFolder(), stage: "nine")) { error in
            XCTAssertEqual("\(error)", "--stage nine: no such stage in lesson 1; stages are 1 (data), 2 (models), 3 (as-written), 4 (works)")
        }
    }
}
