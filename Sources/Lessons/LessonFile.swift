import Foundation

/// A lesson as written in `Lessons/NN-name.md`: front matter, narrative, and stages.
public struct LessonFile {
    /// A raw `key: value` setting with where it was written. A value may go on over the indented
    /// lines that follow its key; they are joined with spaces.
    public struct Entry: Equatable {
        public let key: String
        public private(set) var value: String
        public let line: Int
        /// Each line of the value: where its text starts in `value` (a character count) and its line number.
        public private(set) var parts: [Part]

        public struct Part: Equatable {
            public let offset: Int
            public let line: Int
            public let text: String
        }

        init(key: String, value: String, line: Int) {
            self.key = key
            self.value = value
            self.line = line
            parts = [Part(offset: 0, line: line, text: value)]
        }

        /// Whether the value was written over more than one line.
        public var isMultiline: Bool { parts.count > 1 }

        /// The part of the value holding the character at `offset`: the last part starting at or before it.
        public func part(atOffset offset: Int) -> Part {
            parts.last { $0.offset <= offset && !$0.text.isEmpty } ?? parts[0]
        }

        mutating func append(_ text: String, line: Int) {
            let separator = value.isEmpty ? "" : " "
            parts.append(Part(offset: value.count + separator.count, line: line, text: text))
            value += separator + text
        }
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
            var open = false
            while index < lines.count {
                let line = lines[index]
                index += 1
                if line.trimmingCharacters(in: .whitespaces) == "---" { closed = true; break }
                if open, LessonFile.continues(line, entries: &header, number: index) { continue }
                let entry = LessonFile.entry(line, number: index, path: path, problems: &problems)
                if let entry { header.append(entry) }
                open = entry != nil || LessonFile.isBlankOrComment(line) && open
            }
            if !closed { problems.append("\(path):1: the front matter opened with --- is never closed by a --- line") }
        } else {
            problems.append("\(path):1: a lesson starts with front matter: a --- line, `lesson:`, `title:`, `summary:`, then ---")
        }

        introduction = ""
        stages = []
        var prose: [String] = []
        var inBlock = false
        var open = false  // an entry of the block was just read: indented lines continue its value
        var otherFence = false
        while index < lines.count {
            let line = lines[index]
            let number = index + 1
            index += 1
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if inBlock {
                if trimmed.hasPrefix("```") { inBlock = false; continue }
                if open, LessonFile.continues(line, entries: &stages[stages.count - 1].entries, number: number) { continue }
                let entry = LessonFile.entry(line, number: number, path: path, problems: &problems)
                if let entry { stages[stages.count - 1].entries.append(entry) }
                open = entry != nil || LessonFile.isBlankOrComment(line) && open
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
                    open = false
                    stages.append(Stage(title: "", line: number, introduction: "", conclusion: "", entries: [], blockLine: number))
                    continue
                }
                if stages[stages.count - 1].blockLine != nil {
                    problems.append("\(path):\(number): stage \"\(stages[stages.count - 1].title)\" already has a ```stage block; start a new `## heading` for another stage")
                }
                flush(&prose)
                stages[stages.count - 1].blockLine = number
                inBlock = true
                open = false
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

    private static func isBlankOrComment(_ line: String) -> Bool {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty || trimmed.hasPrefix("#")
    }

    /// An indented line after a setting goes on with its value (blank and `#` lines are skipped).
    /// Returns false when `line` does not continue the last entry.
    private static func continues(_ line: String, entries: inout [Entry], number: Int) -> Bool {
        guard !entries.isEmpty else { return false }
        if isBlankOrComment(line) { return true }
        guard line.first == " " || line.first == "\t" else { return false }
        entries[entries.count - 1].append(withoutComment(line.trimmingCharacters(in: .whitespaces)), line: number)
        return true
    }

    /// A value without its trailing ` # comment`.
    private static func withoutComment(_ value: String) -> String {
        guard let hash = value.range(of: " #") else { return value }
        return value[..<hash.lowerBound].trimmingCharacters(in: .whitespaces)
    }

    private static func entry(_ line: String, number: Int, path: String, problems: inout [String]) -> Entry? {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty || trimmed.hasPrefix("#") { return nil }
        guard let colon = trimmed.firstIndex(of: ":") else {
            problems.append("\(path):\(number): expected `key: value`, got \"\(trimmed)\"")
            return nil
        }
        let key = trimmed[..<colon].trimmingCharacters(in: .whitespaces)
        let value = withoutComment(trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces))
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
