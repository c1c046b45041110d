import ArgumentParser
import Charts
import Foundation
import Lessons

/// `gan-lab`: the command line of the GAN laboratory. Thin: the work is done by the Lessons library.
struct GanLab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gan-lab",
        abstract: "A step-through GAN laboratory: lessons that explain, train and draw.",
        subcommands: [ListLessons.self, RunLesson.self, RunFile.self, CheckLesson.self])
}

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

struct ListLessons: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lessons", abstract: "List the lessons.")

    func run() throws {
        for entry in try LessonCatalog.locate().entries() {
            print(String(format: "%2d  ", entry.number) + entry.title)
            print("    " + entry.summary)
        }
    }
}

struct RunLesson: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lesson", abstract: "Walk through lesson N of Lessons/.")

    @Argument(help: "The lesson number (see `gan-lab lessons`).")
    var number: Int

    @OptionGroup var flags: RunFlags

    func run() throws {
        try flags.run(path: LessonCatalog.locate().path(ofLesson: number))
    }
}

struct RunFile: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run a lesson file from anywhere.")

    @Argument(help: "Path of a lesson file (Markdown with ```stage blocks).")
    var file: String

    @OptionGroup var flags: RunFlags

    func run() throws { try flags.run(path: file) }
}

struct CheckLesson: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check", abstract: "Validate a lesson file without running it.")

    @Argument(help: "Path of a lesson file.")
    var file: String

    func run() throws {
        let lesson = try Lesson(path: file)
        print("\(file): lesson \(lesson.number) \"\(lesson.title)\", \(lesson.stages.count) stages, no problems")
    }
}

/// Runs the command; errors become one line each on standard error and a non-zero status.
func main() -> Never {
    do {
        var command = try GanLab.parseAsRoot()
        try command.run()
        exit(0)
    } catch let error as LessonError {
        for problem in error.problems { FileHandle.standardError.write("gan-lab: \(problem)\n".data(using: .utf8)!) }
        exit(1)
    } catch {
        GanLab.exit(withError: error)
    }
}

main()
