import Foundation

/// A lesson as written in `Lessons/NN-name.md`: front matter, narrative, and stages.
public struct LessonFile {
    /// A raw `key: value` line with where it was written.
    public struct Entry: Equatable {
        public let key: String
        public let value: String
        public let line: Int
    }

    /// One stage: its heading, the prose before and after its configuration block, the block.
    public struct Stage {
        public let title: String
        public let line: Int
        public var introduction: String
        public var conclusion: String
        public var entries: [Entry]
        public var blockLine: Int?
    }

    public let path: String
    /// Problems of form found while reading; validation reports them with its own.
    public private(set) var problems: [String] = []
    public var header: [Entry]
    public var introduction: String
    public var stages: [Stage]

    /// Reads and parses a lesson file (problems of form are kept in `problems`).
    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LessonError(["\(path): cannot read the lesson file (does it exist and is it readable?)"])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw LessonError(["\(path): the lesson file is not UTF-8 text"])
        }
        self.init(path: path, text: text)
    }

    /// Parses lesson text. `path` is only used in messages.
    public init(path: String, text: String) {
        self.path = path
        var problems: [String] = []
        header = []
        introduction = ""
        stages = []
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n")
        var index = 0
        header = []
        // Front matter between two `---` lines.
        if lines.first?.trimmingCharacters(in: .whitespaces) == "---" {
            index = 1
            var closed = false
            while index < lines.count {
                let line = lines[index]
                index += 1
                if line.trimmingCharacters(in: .whitespaces) == "---" { closed = true; break }
                if let entry = LessonFile.entry(line, number: index, path: path, problems: &problems) { header.append(entry) }
            }
            if !closed { problems.append("\(path):1: the front matter opened with --- is never closed by a --- line") }
        } else {
            problems.append("\(path):1: a lesson starts with front matter: a --- line, `lesson:`, `title:`, `summary:`, then ---")
        }

        introduction = ""
        stages = []
        var prose: [String] = []
        var inBlock = false
        var otherFence = false
        while index < lines.count {
            let line = lines[index]
            let number = index + 1
            index += 1
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if inBlock {
                if trimmed.hasPrefix("```") { inBlock = false; continue }
                if let entry = LessonFile.entry(line, number: number, path: path, problems: &problems) {
                    stages[stages.count - 1].entries.append(entry)
                }
                continue
            }
            if otherFence {
                if trimmed.hasPrefix("```") { otherFence = false }
                prose.append(line)
                continue
            }
            if trimmed.hasPrefix("## ") {
                flush(&prose)
                stages.append(Stage(title: String(trimmed.dropFirst(3)).trimmingCharacters(in: .whitespaces),
                                    line: number, introduction: "", conclusion: "", entries: [], blockLine: nil))
            } else if trimmed == "```stage" {
                guard !stages.isEmpty else {
                    problems.append("\(path):\(number): a ```stage block must follow a `## Stage title` heading")
                    inBlock = true
                    stages.append(Stage(title: "", line: number, introduction: "", conclusion: "", entries: [], blockLine: number))
                    continue
                }
                if stages[stages.count - 1].blockLine != nil {
                    problems.append("\(path):\(number): stage \"\(stages[stages.count - 1].title)\" already has a ```stage block; start a new `## heading` for another stage")
                }
                flush(&prose)
                stages[stages.count - 1].blockLine = number
                inBlock = true
            } else {
                if trimmed.hasPrefix("```") { otherFence = true }
                prose.append(line)
            }
        }
        if inBlock { problems.append("\(path):\(lines.count): the last ```stage block is never closed by ```") }
        flush(&prose)
        for stage in stages where stage.blockLine == nil {
            problems.append("\(path):\(stage.line): stage \"\(stage.title)\" has no ```stage block (id, kind and settings)")
        }
        self.problems = problems
    }

    /// Appends collected prose to the introduction, or to the current stage (before or after its block).
    private mutating func flush(_ prose: inout [String]) {
        let text = prose.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        prose = []
        guard !text.isEmpty else { return }
        guard !stages.isEmpty else {
            introduction += (introduction.isEmpty ? "" : "\n\n") + text
            return
        }
        if stages[stages.count - 1].blockLine == nil {
            stages[stages.count - 1].introduction += text
        } else {
            stages[stages.count - 1].conclusion += (stages[stages.count - 1].conclusion.isEmpty ? "" : "\n\n") + text
        }
    }

    private static func entry(_ line: String, number: Int, path: String, problems: inout [String]) -> Entry? {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty || trimmed.hasPrefix("#") { return nil }
        guard let colon = trimmed.firstIndex(of: ":") else {
            problems.append("\(path):\(number): expected `key: value`, got \"\(trimmed)\"")
            return nil
        }
        let key = trimmed[..<colon].trimmingCharacters(in: .whitespaces)
        var value = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        if let hash = value.range(of: " #") { value = value[..<hash.lowerBound].trimmingCharacters(in: .whitespaces) }
        guard !key.isEmpty else {
            problems.append("\(path):\(number): a setting has no name before its colon")
            return nil
        }
        return Entry(key: key, value: value, line: number)
    }
}

/// Everything wrong with a lesson or a run's settings, one `file:line: problem` a line.
public struct LessonError: Error, CustomStringConvertible {
    public private(set) var problems: [String] = []
    public init(_ problems: [String]) { self.problems = problems }
    public var description: String { problems.joined(separator: "\n") }
}
