import Foundation
@testable import Lessons
import XCTest

/// A fresh temporary folder for one test.
func temporaryFolder(_ name: String = #function) -> String {
    let path = NSTemporaryDirectory() + "gan-lab-tests/\(name.filter { $0.isLetter || $0.isNumber })-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// The repository's Lessons/ folder.
let lessonsFolder: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.appendingPathComponent("Lessons").path
}()

/// Runs a lesson file quietly; returns the result and what it printed.
@discardableResult
func runLesson(_ path: String, out: String, quick: Bool = true, seed: UInt64? = nil, stage: String? = nil,
               overrides: [String] = []) throws -> (result: RunResult, output: String) {
    var printed = ""
    var options = RunOptions()
    options.outputRoot = out
    options.quick = quick
    options.seed = seed
    options.startStage = stage
    let lesson = try Lesson(path: path, overrides: overrides)
    let result = try LessonRunner(lesson: lesson, options: options, console: Console(write: { printed += $0 })).run()
    return (result, printed)
}

func lessonPath(_ number: Int) throws -> String {
    try LessonCatalog(folder: lessonsFolder).path(ofLesson: number)
}

/// The one line a refused command gives: `body`'s LessonError as text, after checking it is one
/// problem on one line; "no error" when `body` succeeds, and the error itself when it is not a
/// LessonError.
func refusal(file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) -> String {
    do {
        try body()
        return "no error"
    } catch let error as LessonError {
        XCTAssertEqual(error.problems.count, 1, file: file, line: line)
        XCTAssertFalse(error.description.contains("\n"), file: file, line: line)
        return error.description
    } catch {
        return "not a LessonError: \(error)"
    }
}

/// Runs `executable` with `arguments` in `folder` (two OpenMP threads for any PyTorch it starts)
/// and returns its exit status and what it printed on both streams.
func runProcess(_ executable: String, _ arguments: [String], in folder: String) throws -> (Int32, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: folder)
    var environment = ProcessInfo.processInfo.environment
    environment["OMP_NUM_THREADS"] = "2"
    process.environment = environment
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
