import ArgumentParser
import Charts
import Foundation
import Lessons

/// Options shared by every command that runs a lesson.
struct RunFlags: ParsableArguments {
    @Option(name: .long, help: "Folder the run writes into (one lesson-NN folder per lesson).")
    var out = "Output"

    @Option(name: .long, help: "Seed of every random draw (default: the lesson's own seed).")
    var seed: UInt64?

    @Flag(name: .long, help: "A few steps per stage: a smoke test that finishes in seconds.")
    var quick = false

    @Flag(name: .long, help: "Never wait for Enter between stages.")
    var noPause = false

    @Option(name: .long, help: "Figure format: png, svg or pdf.")
    var format = "png"

    @Option(name: .long, help: "Start at this stage (number or id); earlier stages are skipped.")
    var stage: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a setting: key=value (every stage) or stage.key=value.", valueName: "setting"))
    var overrides: [String] = []

    func validate() throws {
        guard ImageFormat(rawValue: format) != nil else {
            throw ValidationError("--format \(format): choose png, svg or pdf")
        }
    }

    func run(path: String) throws {
        let lesson = try Lesson(path: path, overrides: overrides)
        var options = RunOptions()
        options.outputRoot = out
        options.seed = seed
        options.quick = quick
        options.format = ImageFormat(rawValue: format)!
        options.startStage = stage
        Interruption.install()
        let result = try LessonRunner(lesson: lesson, options: options, console: .standard(pause: !noPause)).run()
        if result.interrupted { throw ExitCode(130) }
    }
}
