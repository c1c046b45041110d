import Foundation

/// The numbered lesson files of a `Lessons/` folder.
public struct LessonCatalog {
    public let folder: String

    public struct Entry {
        public let number: Int
        public let title: String
        public let summary: String
        public let path: String
    }

    public init(folder: String) { self.folder = folder }

    /// Finds `Lessons/`: $GAN_LAB_LESSONS, the current folder, or beside the package the executable was built in.
    public static func locate() throws -> LessonCatalog {
        var candidates: [String] = []
        if let configured = ProcessInfo.processInfo.environment["GAN_LAB_LESSONS"] { candidates.append(configured) }
        candidates.append((FileManager.default.currentDirectoryPath as NSString).appendingPathComponent("Lessons"))
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(folder.appendingPathComponent("Lessons").path)
            folder.deleteLastPathComponent()
        }
        var isFolder: ObjCBool = false
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0, isDirectory: &isFolder) && isFolder.boolValue })
        else { throw LessonError(["cannot find the Lessons folder; run gan-lab from the project folder or set GAN_LAB_LESSONS"]) }
        return LessonCatalog(folder: found)
    }

    /// Lesson files (`NN-name.md`), sorted by number, with their front matter.
    public func entries() throws -> [Entry] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return try names.filter { $0.hasSuffix(".md") && Int($0.prefix(2)) != nil }.sorted().map { name in
            let path = (folder as NSString).appendingPathComponent(name)
            let file = try LessonFile(path: path)
            if !file.problems.isEmpty { throw LessonError(file.problems) }
            let value = { (key: String) in file.header.first { $0.key == key }?.value ?? "" }
            return Entry(number: Int(value("lesson")) ?? Int(name.prefix(2))!, title: value("title"), summary: value("summary"), path: path)
        }
    }

    /// The file of lesson `number`, or an error listing the lessons there are.
    public func path(ofLesson number: Int) throws -> String {
        let all = try entries()
        if let entry = all.first(where: { $0.number == number }) { return entry.path }
        let known = all.map { String($0.number) }.joined(separator: ", ")
        throw LessonError(["there is no lesson \(number); the lessons are \(known) (see `gan-lab lessons`)"])
    }
}
