import ArgumentParser
import Foundation
import Lessons

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
