import ArgumentParser
import Charts
import Foundation
import Lessons

/// `gan-lab`: the command line of the GAN laboratory. Thin: the work is done by the Lessons library.
struct GanLab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gan-lab",
        abstract: "A step-through GAN laboratory: lessons that explain, train and draw.",
        subcommands: [ListLessons.self, RunLesson.self, RunFile.self, CheckLesson.self, SweepStage.self, Score.self, Sample.self, Export.self, Gallery.self, Bench.self])
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
    } catch let error as ChartError {
        FileHandle.standardError.write("gan-lab: \(error.message)\n".data(using: .utf8)!)
        exit(1)
    } catch {
        GanLab.exit(withError: error)
    }
}

main()
