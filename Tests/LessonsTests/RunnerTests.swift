import Foundation
@testable import Lessons
import XCTest

/// The lesson engine driven as a class would drive it: key presses, Ctrl-C, divergence.
final class RunnerTests: XCTestCase {
    /// A two-stage toy lesson small enough for debug builds.
    let tinyLesson = """
    ---
    lesson: 12
    title: Tiny
    summary: For tests.
    seed: 4
    generator: 4 -> 8 relu -> 2
    discriminator: 2 -> 8 leaky -> 1
    batch-size: 16
    ---
    ## Look
    ```stage
    id: look
    kind: data
    points: 100
    ```
    ## Fit
    ```stage
    id: fit
    kind: train
    epochs: 2
    steps-per-epoch: 2
    snapshot-every: 1
    pause-every: 1
    ```
    """

    private func write(_ text: String) throws -> String {
        let path = temporaryFolder() + "/12-tiny.md"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs the tiny lesson answering prompts with `keys`; returns the result, the output, the lesson folder.
    private func drive(_ keys: [String], overrides: [String] = []) throws -> (RunResult, String, String) {
        var answers = keys[...]
        var printed = ""
        let out = temporaryFolder()
        var options = RunOptions()
        options.outputRoot = out
        let console = Console(write: { printed += $0 }, readLine: { answers.popFirst() })
        let lesson = try Lesson(path: write(tinyLesson), overrides: overrides)
        let result = try LessonRunner(lesson: lesson, options: options, console: console).run()
        XCTAssertTrue(answers.isEmpty, "unused answers \(answers)")
        return (result, printed, out + "/lesson-12")
    }

    private func csvRows(_ folder: String) throws -> [[String]] {
        try String(contentsOfFile: folder + "/metrics.csv", encoding: .utf8).split(separator: "\n").dropFirst()
            .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    func testStepModeTakesSingleUpdatesAndRedrawsAfterEach() throws {
        // Between stages: Enter. In the training stage at epoch 1: d, g, b, then p (play to the next pause);
        // at epoch 2: Enter (play to the end).
        let (result, printed, folder) = try drive(["", "d", "g", "b", "p", ""])
        let rows = try csvRows(folder)
        XCTAssertEqual(rows.map { $0[3] }, ["D", "G", "D+G", "D+G", "D+G", "D+G", "D+G"])
        XCTAssertEqual(rows.map { $0[1] }, (1...7).map(String.init))
        XCTAssertEqual(rows[0][5], "")   // a D update measures no generator loss
        XCTAssertEqual(rows[1][4], "")   // a G update measures no discriminator loss
        for name in ["samples-step-00001-d", "samples-step-00002-g", "samples-step-00003-both"] {
            XCTAssertTrue(result.figures.contains { $0.hasSuffix("stage-2/\(name).png") }, name)
        }
        XCTAssertTrue(printed.contains("step 1 · D update · D loss "))
        XCTAssertTrue(printed.contains("step 2 · G update · G loss "))
        XCTAssertFalse(result.interrupted || result.quit)
    }

    func testRunAgainWithNewSettingsSkipAndQuit() throws {
        // After stage 1: run it again with 50 points, then quit.
        let (result, printed, folder) = try drive(["r points=50", "q"])
        XCTAssertTrue(printed.contains("running stage 1 again with look.points=50"))
        XCTAssertTrue(printed.contains("  50 points from"))
        XCTAssertTrue(result.quit)
        let summary = try String(contentsOfFile: folder + "/summary.json", encoding: .utf8)
        XCTAssertTrue(summary.contains("\"look.points=50\""))
        XCTAssertTrue(summary.contains("\"interrupted\" : true"))
        // A bad re-run setting is explained and asked again; s skips the training stage.
        let (skipped, skipOutput, _) = try drive(["r points=lots", "s"])
        XCTAssertTrue(skipOutput.contains("--set look.points=lots: points: expected a whole number"))
        XCTAssertTrue(skipOutput.contains("skipping stage 2: Fit"))
        XCTAssertFalse(skipped.figures.contains { $0.contains("stage-2") })
    }

    func testQuitInsideStepModeKeepsWhatWasWritten() throws {
        let (result, _, folder) = try drive(["", "d", "q"])
        XCTAssertTrue(result.quit)
        XCTAssertEqual(try csvRows(folder).count, 1)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/index.html"))
    }

    func testInterruptionStopsAfterTheStepAndSavesEverything() throws {
        Interruption.requested = true
        defer { Interruption.requested = false }
        let out = temporaryFolder()
        let (result, printed) = try runLesson(write(tinyLesson), out: out, quick: false)
        XCTAssertTrue(result.interrupted)
        XCTAssertTrue(printed.contains("Interrupted: what was done is saved."))
        let folder = out + "/lesson-12"
        XCTAssertEqual(try csvRows(folder).count, 1)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/summary.json"))) as? [String: Any])
        XCTAssertEqual(summary["interrupted"] as? Bool, true)
        XCTAssertEqual((summary["stages"] as? [[String: Any]])?.last?["completed"] as? Bool, false)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/stage-2/metrics.png"))
    }

    func testDivergenceNamesTheNetworkAndTheStepAndKeepsTheRun() throws {
        let out = temporaryFolder()
        XCTAssertThrowsError(try runLesson(write(tinyLesson), out: out, quick: false,
                                           overrides: ["optimizer=sgd", "learning-rate=10", "epochs=50"])) { error in
            let message = "\(error)"
            XCTAssertTrue(message.range(of: #"^the (generator|discriminator) loss became (NaN|infinite) at step \d+ \("#,
                                        options: .regularExpression) != nil, message)
            XCTAssertTrue(message.hasSuffix("try a lower learning rate (--set learning-rate=…) or a gradient penalty"), message)
        }
        let summary = try String(contentsOfFile: out + "/lesson-12/summary.json", encoding: .utf8)
        XCTAssertTrue(summary.contains("\"completed\" : false"))
    }

    func testPageShowsNarrativeFiguresAndMetrics() throws {
        let out = temporaryFolder()
        try runLesson(write(tinyLesson), out: out)
        let page = try String(contentsOfFile: out + "/lesson-12/index.html", encoding: .utf8)
        XCTAssertTrue(page.contains("<h1>Lesson 12: Tiny</h1>"))
        XCTAssertTrue(page.contains("<img src=\"stage-1/data.png\""))
        XCTAssertTrue(page.contains("<img src=\"stage-2/samples-epoch-0002.png\""))
        XCTAssertTrue(page.contains("<tr><th>fake std x</th><td>"))  // in words, the key small beside it
        XCTAssertTrue(page.contains("<td><code>fake_std_x</code></td>"))
        XCTAssertFalse(page.contains("http"), "the page must work offline")
    }

    func testEveryLessonRunsInQuickMode() throws {
        for entry in try LessonCatalog(folder: lessonsFolder).entries() {
            let out = temporaryFolder()
            let (result, _) = try runLesson(entry.path, out: out)
            XCTAssertFalse(result.figures.isEmpty, entry.path)
            XCTAssertTrue(FileManager.default.fileExists(atPath: result.folder + "/summary.json"), entry.path)
            // Every number the page shows has a name in words.
            let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: result.folder + "/summary.json")))
                as? [String: Any])
            for stage in summary["stages"] as? [[String: Any]] ?? [] {
                for key in (stage["metrics"] as? [String: Any] ?? [:]).keys {
                    XCTAssertNotNil(MetricNames.words(key), "\(entry.path): \(key) has no name in words")
                }
            }
        }
    }

    func testMarkdownSubset() {
        XCTAssertEqual(markdown("A **bold** `x<y` here.\n\n- one\n- two"),
                       "<p>A <strong>bold</strong> <code>x&lt;y</code> here.</p>\n<ul><li>one</li><li>two</li></ul>\n")
        XCTAssertEqual(markdown("an odd ** marker"), "<p>an odd ** marker</p>\n")
    }
}
