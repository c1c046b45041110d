import ArgumentParser
import Charts
import Foundation
import Lessons

/// Options shared by every command that runs a lesson.
struct RunFlags: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Folder the run writes into (a lesson-NN folder inside).", valueName: "folder"))
    var out = "Output"

    @Option(name: .long, help: ArgumentHelp("Seed of every random draw (default: the lesson's own).", valueName: "n"))
    var seed: UInt64?

    @Option(name: .long, help: ArgumentHelp("Threads for matrix products and convolutions (the numbers do not depend on it).", valueName: "n"))
    var threads = 2

    @Flag(name: .long, help: "A few steps per stage: a smoke test that finishes in seconds.")
    var quick = false

    @Flag(name: .long, help: "Never wait for a key, even on a terminal.")
    var noPause = false

    @Option(name: .long, help: ArgumentHelp("Figure format: png, svg or pdf.", valueName: "format"))
    var format = "png"

    @Option(name: .long, help: ArgumentHelp("Start at this stage (number or id).", valueName: "stage"))
    var stage: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Change a setting: key=value (every stage) or stage.key=value.", valueName: "setting"))
    var overrides: [String] = []

    @Option(name: .long, help: ArgumentHelp("Continue a stopped train-images stage from its checkpoint (training.safetensors in its folder).",
                                            valueName: "file"))
    var resume: String?

    func validate() throws {
        guard (1...64).contains(threads) else { throw ValidationError("--threads \(threads): choose 1 to 64") }
        guard ImageFormat(rawValue: format) != nil else {
            throw ValidationError("--format \(format): choose png, svg or pdf")
        }
    }

    /// Runs the lesson file at `path`; `command` is how the user named it ("gan-lab lesson 6"), for
    /// the line that says how to continue an interrupted run.
    func run(path: String, command: String) throws {
        let lesson = try Lesson(path: path, overrides: overrides)
        var options = RunOptions()
        options.outputRoot = out
        options.seed = seed
        options.quick = quick
        options.format = ImageFormat(rawValue: format)!
        options.startStage = stage
        options.threads = threads
        options.resume = resume
        Interruption.install()
        let result = try LessonRunner(lesson: lesson, options: options, console: .standard(pause: !noPause)).run()
        if result.interrupted {
            if let checkpoint = result.checkpoint { print("  to continue: " + resumeCommand(command, checkpoint: checkpoint)) }
            throw ExitCode(130)
        }
    }

    /// The command that continues this run from `checkpoint`: the same flags, `--resume` instead of `--stage` and `--seed`.
    func resumeCommand(_ command: String, checkpoint: String) -> String {
        var words = [command]
        if out != "Output" { words += ["--out", shellQuoted(out)] }
        if threads != 2 { words += ["--threads", String(threads)] }
        if quick { words.append("--quick") }
        if noPause { words.append("--no-pause") }
        if format != "png" { words += ["--format", format] }
        for setting in overrides { words += ["--set", shellQuoted(setting)] }
        return (words + ["--resume", shellQuoted(checkpoint)]).joined(separator: " ")
    }
}

/// `text` as one shell word: as it is when that is safe, else in single quotes.
func shellQuoted(_ text: String) -> String {
    let plain = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_./=:,+@%"))
    guard !text.isEmpty, text.unicodeScalars.allSatisfy(plain.contains) else {
        return "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }
    return text
}
