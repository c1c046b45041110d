import Foundation

/// The effective settings of one stage: front-matter defaults, the stage's block, then overrides.
public struct StageSettings {
    public private(set) var values: [String: String]
    let kind: StageKind.Type?

    init(values: [String: String], kind: StageKind.Type?) {
        self.values = values
        self.kind = kind
    }

    /// Raw text of a setting (the stage kind's default when unset).
    public func text(_ name: String) -> String {
        values[name] ?? kind?.readSettings.first { $0.name == name }?.defaultValue ?? ""
    }
    public func integer(_ name: String) -> Int { Int(text(name).replacingOccurrences(of: "_", with: "")) ?? 0 }
    public func number(_ name: String) -> Double { Double(text(name)) ?? 0 }
    public func interval(_ name: String) -> ClosedRange<Double> { parseInterval(text(name)) ?? -1...1 }

    /// Every setting this stage kind reads, with defaults filled in (for summary.json).
    public var effective: [String: String] {
        var result: [String: String] = ["id": values["id"] ?? "", "kind": values["kind"] ?? ""]
        for spec in kind?.readSettings ?? [] { result[spec.name] = values[spec.name] ?? spec.defaultValue }
        return result
    }
}

/// A validated stage, ready to run.
public struct StagePlan {
    public let number: Int
    public let id: String
    public let kind: String
    public let title: String
    public let introduction: String
    public let conclusion: String
    public var settings: StageSettings
}

/// A validated lesson: every setting known, typed and in range.
public struct Lesson {
    public let file: LessonFile
    public let path: String
    public let number: Int
    public let title: String
    public let summary: String
    public let seed: UInt64
    public let introduction: String
    public var stages: [StagePlan]
    /// The `--set` overrides applied, as given.
    public let overrides: [String]

    /// Validates a parsed file with `key=value` or `stage.key=value` overrides; lists every problem at once.
    public init(file: LessonFile, overrides: [String] = []) throws {
        var problems = file.problems
        let path = file.path
        var header: [String: String] = [:]
        var headerEntries: [String: LessonFile.Entry] = [:]
        for entry in file.header {
            if let spec = headerSpecs.first(where: { $0.name == entry.key }) ?? spec(named: entry.key) {
                if let (line, problem) = locatedProblem(spec.kind, entry) {
                    problems.append("\(path):\(line): \(entry.key): \(problem)")
                }
                header[entry.key] = entry.value
                headerEntries[entry.key] = entry
            } else {
                problems.append("\(path):\(entry.line): unknown setting \"\(entry.key)\"\(hint(entry.key, headerSpecs + settingSpecs))")
            }
        }
        for required in ["lesson", "title", "summary"] where header[required] == nil {
            problems.append("\(path):1: the front matter needs `\(required):`")
        }

        var stages: [StagePlan] = []
        // Where each stage's settings were written (front matter or block), to point at a layer's line.
        var origins: [[String: LessonFile.Entry]] = []
        var seenIDs: [String: Int] = [:]
        for (index, stage) in file.stages.enumerated() {
            let line = stage.blockLine ?? stage.line
            var values = header.filter { spec(named: $0.key) != nil }
            var stageOrigins = headerEntries.filter { spec(named: $0.key) != nil }
            var own: [String: String] = [:]
            for entry in stage.entries {
                if own[entry.key] != nil {
                    problems.append("\(path):\(entry.line): \(entry.key) is set twice in this stage")
                }
                own[entry.key] = entry.value
            }
            let kind = own["kind"] ?? ""
            let kindType = stageKind(named: kind)
            let reads = { (name: String) in kindType?.readSettings.contains { $0.name == name } ?? true }
            if stage.title.isEmpty { problems.append("\(path):\(stage.line): a stage needs a name after `## `") }
            if own["id"] == nil { problems.append("\(path):\(line): stage \"\(stage.title)\" needs `id:` (a short name for --stage and --set)") }
            if own["kind"] == nil { problems.append("\(path):\(line): stage \"\(stage.title)\" needs `kind:` (one of \(stageKindNames.joined(separator: ", ")))") }
            for entry in stage.entries {
                guard let spec = spec(named: entry.key) else {
                    problems.append("\(path):\(entry.line): unknown setting \"\(entry.key)\"\(hint(entry.key, settingSpecs))")
                    continue
                }
                if let (line, problem) = locatedProblem(spec.kind, entry) {
                    problems.append("\(path):\(line): \(entry.key): \(problem)")
                } else if !identitySettings.contains(where: { $0.name == entry.key }), !reads(entry.key) {
                    problems.append("\(path):\(entry.line): \(entry.key) does not apply to a \(kind) stage")
                }
                values[entry.key] = entry.value
                stageOrigins[entry.key] = entry
            }
            origins.append(stageOrigins)
            if let id = own["id"] {
                if let earlier = seenIDs[id] { problems.append("\(path):\(line): id \"\(id)\" is already used by stage \(earlier)") }
                seenIDs[id] = index + 1
            }
            if let kindType {
                for spec in kindType.settings where spec.defaultValue == nil && values[spec.name] == nil {
                    problems.append("\(path):\(line): a \(kind) stage needs `\(spec.name):`")
                }
            }
            let settings = StageSettings(values: values, kind: kindType)
            stages.append(StagePlan(number: index + 1, id: own["id"] ?? "stage-\(index + 1)", kind: kind, title: stage.title,
                                    introduction: stage.introduction, conclusion: stage.conclusion,
                                    settings: settings))
        }
        if stages.isEmpty { problems.append("\(path): the lesson has no stages (`## Title` followed by a ```stage block)") }

        // Overrides: "key=value" applies to every stage that reads key; "id.key=value" to one stage.
        for override in overrides {
            guard let equals = override.firstIndex(of: "=") else {
                problems.append("--set \(override): expected key=value or stage.key=value")
                continue
            }
            let target = String(override[..<equals]), value = String(override[override.index(after: equals)...])
            let parts = target.split(separator: ".", maxSplits: 1).map(String.init)
            let (stageID, key) = parts.count == 2 ? (Optional(parts[0]), parts[1]) : (nil, target)
            guard let spec = spec(named: key), key != "id", key != "kind" else {
                problems.append("--set \(override): unknown setting \"\(key)\"\(hint(key, settingSpecs))")
                continue
            }
            if let problem = spec.kind.problem(with: value) {
                problems.append("--set \(override): \(key): \(problem)")
                continue
            }
            var applied = false
            for i in stages.indices where stageID == nil || stages[i].id == stageID {
                guard let kindType = stageKind(named: stages[i].kind), kindType.readSettings.contains(where: { $0.name == key }) else { continue }
                var values = stages[i].settings.values
                values[key] = value
                stages[i].settings = StageSettings(values: values, kind: kindType)
                origins[i][key] = nil
                applied = true
            }
            if !applied {
                let known = stages.map(\.id).joined(separator: ", ")
                problems.append(stageID.map { id in stages.contains { $0.id == id }
                    ? "--set \(override): stage \"\(id)\" does not read \(key)"
                    : "--set \(override): no stage \"\(id)\" (stages: \(known))" }
                    ?? "--set \(override): no stage reads \(key)")
            }
        }
        // Settings valid alone may still not fit together (checked once each is known to be valid).
        if problems.isEmpty {
            for (index, (plan, stage)) in zip(stages, file.stages).enumerated() {
                let line = stage.blockLine ?? stage.line
                let layerLines = modelProblemLines(plan.settings, origins: origins[index])
                problems += (stageKind(named: plan.kind)?.crossCheck(plan.settings) ?? [])
                    .map { "\(path):\(layerLines[$0] ?? line): stage \(plan.id): \($0)" }
            }
        }
        if !problems.isEmpty { throw LessonError(sortedByLine(problems, path: path)) }

        self.file = file
        self.path = path
        number = Int(header["lesson"]!)!
        title = header["title"]!
        summary = header["summary"]!
        seed = UInt64(header["seed"] ?? "1") ?? 1
        introduction = file.introduction
        self.stages = stages
        self.overrides = overrides
    }

    /// The same lesson with more overrides (each validated like the first ones).
    public func overridden(with more: [String]) throws -> Lesson {
        try Lesson(file: file, overrides: overrides + more)
    }

    /// Reads and validates a lesson file; every problem is reported at once, in line order.
    public init(path: String, overrides: [String] = []) throws {
        try self.init(file: LessonFile(path: path), overrides: overrides)
    }
}

private func hint(_ name: String, _ specs: [SettingSpec]) -> String {
    suggestion(for: name, among: specs.map(\.name)).map { " (did you mean \"\($0)\"?)" } ?? ""
}

/// Problems in file order ("path:12: …" before "path:30: …"), command-line problems last.
private func sortedByLine(_ problems: [String], path: String) -> [String] {
    func line(_ problem: String) -> Int {
        guard problem.hasPrefix(path + ":") else { return Int.max }
        return Int(problem.dropFirst(path.count + 1).prefix { $0.isNumber }) ?? 0
    }
    return problems.enumerated().sorted { (line($0.element), $0.offset) < (line($1.element), $1.offset) }.map(\.element)
}
