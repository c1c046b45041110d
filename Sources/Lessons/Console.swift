import Foundation

/// Where the lab tells its story and reads the class's key presses.
public final class Console {
    /// Reads one line of input; nil at end of input.
    public typealias LineReader = () -> String?

    let write: (String) -> Void
    let readLine: LineReader?
    /// Whether output goes to a terminal (progress rewritten in place) or a log (plain lines).
    let isTerminal: Bool
    let width: Int

    /// A console over standard output; pauses only when standard input is a terminal and `pause` is on.
    public static func standard(pause: Bool) -> Console {
        let interactive = pause && isatty(STDIN_FILENO) == 1
        return Console(write: { FileHandle.standardOutput.write($0.data(using: .utf8)!) },
                       readLine: interactive ? { Swift.readLine() } : nil,
                       isTerminal: isatty(STDOUT_FILENO) == 1)
    }

    /// A console that writes to `write` and reads key presses from `readLine` (nil: never pause).
    public init(write: @escaping (String) -> Void, readLine: LineReader? = nil, isTerminal: Bool = false, width: Int = 88) {
        self.write = write
        self.readLine = readLine
        self.isTerminal = isTerminal
        self.width = width
    }

    func line(_ text: String = "") { write(text + "\n") }

    /// Markdown prose, re-wrapped to the console's width; lists and headings keep their shape.
    func prose(_ markdown: String, indent: String = "") {
        guard !markdown.isEmpty else { return }
        for paragraph in markdown.components(separatedBy: "\n\n") {
            let lines = paragraph.components(separatedBy: "\n")
            if lines.allSatisfy({ $0.hasPrefix("- ") || $0.hasPrefix("  ") || $0.hasPrefix("|") || $0.hasPrefix("    ") }) {
                for item in lines { line(indent + plain(item)) }
            } else if paragraph.hasPrefix("# ") {
                line(indent + plain(String(paragraph.dropFirst(2))).uppercased())
            } else {
                wrap(plain(lines.joined(separator: " ")), indent: indent)
            }
            line()
        }
    }

    func heading(_ text: String) {
        let rule = String(repeating: "─", count: max(3, width - text.count - 4))
        line("── \(text) \(rule)")
    }

    /// The in-place progress line on a terminal; periodic plain lines otherwise.
    func progress(_ text: String, final: Bool) {
        if isTerminal {
            write("\r\u{1B}[2K  " + text + (final ? "\n" : ""))
        } else {
            line("  " + text)
        }
    }

    /// Whether the console waits for key presses (a terminal on standard input, pauses not turned off).
    var isInteractive: Bool { readLine != nil }

    /// One answer typed at a prompt, or nil when the console never waits (or input ended).
    func ask(_ prompt: String) -> String? {
        guard let readLine else { return nil }
        write("  \(prompt) ")
        return readLine()?.trimmingCharacters(in: .whitespaces)
    }

    /// What the teacher chose between two stages.
    enum Choice: Equatable {
        case next
        /// Run the stage just finished again, with these extra `key=value` settings.
        case rerun([String])
        case skipNext
        case quit
    }

    /// Waits between stages: Enter (next), r [key=value …] (run again), s (skip the next stage), q (quit).
    func pauseBetweenStages() -> Choice {
        guard isInteractive else { return .next }
        while true {
            guard let answer = ask("[Enter] next stage · r run again (r key=value …) · s skip next · q quit ›") else { return .quit }
            let words = answer.split(separator: " ").map(String.init)
            switch words.first?.lowercased() {
            case nil: return .next
            case "r": return .rerun(Array(words.dropFirst()))
            case "s": return .skipNext
            case "q": return .quit
            default: line("  (\"\(answer)\" is not a choice here)")
            }
        }
    }

    private func wrap(_ text: String, indent: String) {
        var current = indent
        for word in text.split(separator: " ") {
            if current.count + word.count + 1 > width, current.count > indent.count {
                line(current)
                current = indent
            }
            current += (current.count > indent.count ? " " : "") + word
        }
        if current.count > indent.count { line(current) }
    }

    private func plain(_ text: String) -> String {
        text.replacingOccurrences(of: "**", with: "").replacingOccurrences(of: "`", with: "")
    }
}

/// `text` padded with spaces on the right to `width` characters (table columns).
func leftAligned(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }

/// `text` padded with spaces on the left to `width` characters (number columns).
func rightAligned(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }

/// A number with `digits` decimals.
func fixed(_ value: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", value) }
