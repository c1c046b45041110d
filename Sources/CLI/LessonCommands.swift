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
    static let configuration = CommandConfiguration(
        commandName: "lesson", abstract: "Walk through lesson N of Lessons/, or a lesson file given by its path.")

    @Argument(help: ArgumentHelp("A lesson number (see `gan-lab lessons`) or the path of a lesson file.", valueName: "lesson"))
    var lesson: String

    @OptionGroup var flags: RunFlags

    /// The lesson's number, when it is one.
    var number: Int? { Int(lesson) }

    func run() throws {
        try flags.run(path: number.map { try LessonCatalog.locate().path(ofLesson: $0) } ?? lessonFilePath(lesson),
                      command: "gan-lab lesson " + shellQuoted(lesson))
    }
}

/// `path` when it names a file; otherwise an error that says what `gan-lab lesson` takes.
func lessonFilePath(_ path: String) throws -> String {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
        throw LessonError(["\(path): no such lesson file; give a lesson number (see `gan-lab lessons`) or the path of a lesson file"])
    }
    guard !isFolder.boolValue else { throw LessonError(["\(path) is a folder; give the path of a lesson file (a .md file in it)"]) }
    guard FileManager.default.isReadableFile(atPath: path) else { throw LessonError(["\(path): the lesson file is not readable"]) }
    return path
}

struct RunFile: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run a lesson file from anywhere.")

    @Argument(help: "Path of a lesson file (Markdown with ```stage blocks).")
    var file: String

    @OptionGroup var flags: RunFlags

    func run() throws { try flags.run(path: file, command: "gan-lab run " + shellQuoted(file)) }
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
