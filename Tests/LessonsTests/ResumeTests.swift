import Foundation
@testable import CLI
@testable import Lessons
import NN
import XCTest

/// Training checkpoints of `train-images` stages and `--resume`: a run stopped after any step and
/// continued ends exactly where an uninterrupted one does; foreign or damaged checkpoints are refused.
final class ResumeTests: XCTestCase {
    /// Every kind of state a run carries: BatchNorm's running statistics in G, dropout in D, Adam's
    /// moments, shuffled batches, the judge's scores, D's feature view, the last fakes and a latent walk.
    let lesson = """
    ---
    lesson: 44
    title: Resumed digits
    summary: For tests.
    seed: 5
    data: mnist
    ---
    ## Train
    ```stage
    id: digits
    kind: train-images
    generator:
        16 -> 32 leaky -> batchnorm momentum 0.8 -> 784 tanh -> reshape 1x28x28
    discriminator:
        1x28x28 -> flatten -> 32 leaky -> dropout 0.3 -> 1
    noise: normal
    learning-rate: 2e-4
    beta1: 0.5
    batch-size: 16
    epochs: 3
    epoch-steps: 3
    snapshot-every: 2
    judge-every: 2
    set-size: 100
    grid-size: 2
    last-fakes-grid: 2
    latent-walk: 1
    views: features
    ```
    """

    private func write(_ text: String, in folder: String, name: String = "44-resume.md") throws -> String {
        let path = folder + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs the lesson (not in quick mode), stopping after `stopAfter` steps as Ctrl-C would when given.
    private func run(_ path: String, out: String, resume: String? = nil, stopAfter: Int? = nil, seed: UInt64? = nil,
                     quick: Bool = false, overrides: [String] = []) throws -> (result: RunResult, printed: String) {
        Interruption.afterStep = stopAfter
        defer { (Interruption.afterStep, Interruption.requested) = (nil, false) }
        var options = RunOptions()
        (options.outputRoot, options.resume, options.seed, options.quick) = (out, resume, seed, quick)
        var printed = ""
        let result = try LessonRunner(lesson: try Lesson(path: path, overrides: overrides), options: options,
                                      console: Console(write: { printed += $0 })).run()
        return (result, printed)
    }

    private func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    func testAStoppedRunContinuesToTheNumbersOfAnUninterruptedOne() throws {
        let folder = temporaryFolder()
        let path = try write(lesson, in: folder)
        let whole = try run(path, out: folder + "/whole").result
        let stage = "/lesson-44/stage-1/"
        let wholeState = try SafeTensors(contentsOf: URL(fileURLWithPath: folder + "/whole" + stage + TrainingCheckpoint.fileName))
        // Stopped inside epoch 2, and at the end of epoch 2 (a snapshot epoch: the stop waits for its figures).
        for stop in [4, 6] {
            let out = folder + "/stopped-\(stop)"
            let (stopped, printed) = try run(path, out: out, stopAfter: stop)
            XCTAssertTrue(stopped.interrupted)
            let checkpoint = try XCTUnwrap(stopped.checkpoint)
            XCTAssertEqual(checkpoint, out + stage + TrainingCheckpoint.fileName)
            XCTAssertTrue(printed.contains("wrote \(checkpoint): the training so far, to continue with --resume"), printed)
            let saved = try SafeTensors(contentsOf: URL(fileURLWithPath: checkpoint))
            XCTAssertEqual(saved["generator_optimizer.step"]?.scalar, Float(stop))
            XCTAssertNotNil(saved["discriminator.1.weight"])  // PyTorch's names, one prefix a network
            XCTAssertNotNil(saved["generator.2.running_mean"])

            let (resumed, resumedPrinted) = try run(path, out: out, resume: checkpoint)
            XCTAssertFalse(resumed.interrupted)
            XCTAssertTrue(resumedPrinted.contains("continuing from \(checkpoint): \(stop == 6 ? "after " : "")epoch 2 of 3, step \(stop)"),
                          resumedPrinted)
            let state = try SafeTensors(contentsOf: URL(fileURLWithPath: checkpoint))
            XCTAssertEqual(state.tensors.map(\.name), wholeState.tensors.map(\.name))
            for ((name, tensor), (_, expected)) in zip(state.tensors, wholeState.tensors) {
                XCTAssertTrue(tensor.shape == expected.shape && tensor.scalars.map(\.bitPattern) == expected.scalars.map(\.bitPattern),
                              "\(name) after a stop at step \(stop)")
            }
            for file in ["metrics.csv", "stage-1/generator.safetensors", "stage-1/samples.gif", "stage-1/metrics.png", "stage-1/judge.png",
                         "stage-1/features-sequence.png", "stage-1/last-fakes-epoch-0002.png", "stage-1/latent-walk.png",
                         "stage-1/generator-modes.png"] {
                XCTAssertEqual(try bytes(out + "/lesson-44/" + file), try bytes(folder + "/whole/lesson-44/" + file), "\(file), stop at \(stop)")
            }
            XCTAssertEqual(resumed.figures.map { $0.replacingOccurrences(of: out, with: "") },
                           whole.figures.map { $0.replacingOccurrences(of: folder + "/whole", with: "") })
            let metrics = { (result: RunResult) in result.metrics["digits"]!.filter { !["seconds", "steps_per_second"].contains($0.key) } }
            XCTAssertEqual(metrics(resumed), metrics(whole))
        }
    }

    func testTheStopPrintsTheCommandThatContinues() throws {
        let command = try XCTUnwrap(GanLab.parseAsRoot(["lesson", "6", "--quick", "--out", "my runs", "--set", "train.epochs=4",
                                                        "--seed", "3", "--no-pause"]) as? RunLesson)
        XCTAssertEqual(command.flags.resumeCommand("gan-lab lesson 6", checkpoint: "my runs/lesson-06/stage-3/training.safetensors"),
                       "gan-lab lesson 6 --out 'my runs' --quick --no-pause --set train.epochs=4 "
                       + "--resume 'my runs/lesson-06/stage-3/training.safetensors'")
        let file = try XCTUnwrap(GanLab.parseAsRoot(["run", "a.md", "--resume", "b.safetensors"]) as? RunFile)
        XCTAssertEqual(file.flags.resume, "b.safetensors")
    }

    func testForeignMissingAndDamagedCheckpointsAreRefusedInOneLine() throws {
        let folder = temporaryFolder()
        let path = try write(lesson, in: folder)
        let out = folder + "/out"
        let checkpoint = try XCTUnwrap(try run(path, out: out, stopAfter: 2).result.checkpoint)
        func refusal(_ path: String, resume: String, seed: UInt64? = nil, quick: Bool = false, overrides: [String] = []) -> String {
            do {
                _ = try run(path, out: folder + "/refused", resume: resume, seed: seed, quick: quick, overrides: overrides)
                return "no error"
            } catch let error as LessonError {
                XCTAssertEqual(error.problems.count, 1)
                return error.problems.joined()
            } catch {
                return "\(error)"
            }
        }
        func check(_ message: String, starts prefix: String, contains part: String, line: UInt = #line) {
            XCTAssertTrue(message.hasPrefix(prefix) && message.contains(part), message, line: line)
            XCTAssertFalse(message.contains("\n"), message, line: line)
        }
        check(refusal(path, resume: folder + "/none.safetensors"), starts: folder + "/none.safetensors: ", contains: "no such checkpoint")

        let data = try bytes(checkpoint)
        for (name, cut) in [("short", data.prefix(6)), ("cut", data.prefix(data.count / 2)), ("header", data.prefix(400))] {
            let damaged = folder + "/\(name).safetensors"
            try cut.write(to: URL(fileURLWithPath: damaged))
            check(refusal(path, resume: damaged), starts: damaged + ": ", contains: "not a checkpoint the lab can read")
        }
        var noise = data
        noise.replaceSubrange(8..<40, with: [UInt8](repeating: 0x41, count: 32))
        let garbled = folder + "/garbled.safetensors"
        try noise.write(to: URL(fileURLWithPath: garbled))
        check(refusal(path, resume: garbled), starts: garbled + ": ", contains: "not a checkpoint the lab can read")

        let generator = try XCTUnwrap(try run(path, out: folder + "/finished").result.figures.first { $0.hasSuffix("samples.gif") })
            .replacingOccurrences(of: "samples.gif", with: "generator.safetensors")
        check(refusal(path, resume: generator), starts: generator + ": ", contains: "a generator alone (for `gan-lab score`)")

        let other = try write(lesson.replacingOccurrences(of: "lesson: 44", with: "lesson: 45"), in: folder, name: "45-other.md")
        check(refusal(other, resume: checkpoint), starts: checkpoint + ": ", contains: "a checkpoint of lesson 44, not of lesson 45")
        let retitled = try write(lesson.replacingOccurrences(of: "title: Resumed digits", with: "title: Digits"), in: folder, name: "44-retitled.md")
        check(refusal(retitled, resume: checkpoint), starts: checkpoint + ": ", contains: "titled \"Resumed digits\"")
        let renamed = try write(lesson.replacingOccurrences(of: "id: digits", with: "id: numbers"), in: folder, name: "44-renamed.md")
        check(refusal(renamed, resume: checkpoint), starts: checkpoint + ": ", contains: "a checkpoint of stage \"digits\"")
        let wider = try write(lesson.replacingOccurrences(of: "16 -> 32 leaky", with: "16 -> 48 leaky"), in: folder, name: "44-wider.md")
        check(refusal(wider, resume: checkpoint), starts: checkpoint + ": ", contains: "made with another generator")
        check(refusal(path, resume: checkpoint, overrides: ["learning-rate=1e-3"]), starts: checkpoint + ": ",
              contains: "made with learning-rate: 2e-4, and stage \"digits\" now has learning-rate: 1e-3")
        check(refusal(path, resume: checkpoint, quick: true), starts: checkpoint + ": ", contains: "made without --quick")
        check(refusal(path, resume: checkpoint, seed: 9), starts: checkpoint + ": ", contains: "made with seed 5")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/refused"))  // refused before anything is written
        // A setting that only paces the class may change.
        XCTAssertFalse(try run(path, out: out, resume: checkpoint, overrides: ["pause-every=1"]).result.interrupted)
    }
}
