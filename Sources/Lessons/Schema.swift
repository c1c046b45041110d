import Foundation
import GAN

/// What kind of value a setting takes.
enum ValueKind {
    case integer(ClosedRange<Int>)
    case number(ClosedRange<Double>)
    case choice([String])
    case architecture
    case interval
    case text

    /// nil when `value` fits, else what was expected.
    func problem(with value: String) -> String? {
        switch self {
        case .integer(let range):
            guard let number = Int(value.replacingOccurrences(of: "_", with: "")) else { return "expected a whole number" }
            return range.contains(number) ? nil : "expected a whole number from \(range.lowerBound) to \(range.upperBound)"
        case .number(let range):
            guard let number = Double(value), number.isFinite else { return "expected a number such as 0.5 or 2e-4" }
            return range.contains(number) ? nil : "expected a number from \(format(range.lowerBound)) to \(format(range.upperBound))"
        case .choice(let options):
            return options.contains(value) ? nil : "expected one of \(options.joined(separator: ", "))"
        case .architecture:
            do { _ = try Architecture(parsing: value); return nil } catch { return "\(error)" }
        case .interval:
            return parseInterval(value) == nil ? "expected an interval such as -3..3" : nil
        case .text:
            return value.isEmpty ? "expected some text" : nil
        }
    }
}

/// One known setting: its name, kind, default and which stage kinds read it.
struct SettingSpec {
    let name: String
    let kind: ValueKind
    let defaultValue: String?
    let stageKinds: Set<String>
}

/// The stage kinds a lesson can use.
let stageKinds = ["data", "models", "train"]

/// Every setting a lesson file may write, in one table.
let settingSpecs: [SettingSpec] = {
    let data: Set<String> = ["data", "train"], models: Set<String> = ["models", "train"], train: Set<String> = ["train"]
    let all = Set(stageKinds)
    return [
        SettingSpec(name: "id", kind: .text, defaultValue: nil, stageKinds: all),
        SettingSpec(name: "kind", kind: .choice(stageKinds), defaultValue: nil, stageKinds: all),
        SettingSpec(name: "data", kind: .choice(["gaussian", "disk", "quadratic"]), defaultValue: "gaussian", stageKinds: data),
        SettingSpec(name: "data-std", kind: .number(1e-4...1e4), defaultValue: "0.5", stageKinds: data),
        SettingSpec(name: "data-mean-x", kind: .number(-1e4...1e4), defaultValue: "0", stageKinds: data),
        SettingSpec(name: "data-mean-y", kind: .number(-1e4...1e4), defaultValue: "0", stageKinds: data),
        SettingSpec(name: "points", kind: .integer(1...1_000_000), defaultValue: "1000", stageKinds: data),
        SettingSpec(name: "axes", kind: .interval, defaultValue: "-3..3", stageKinds: data),
        SettingSpec(name: "generator", kind: .architecture, defaultValue: nil, stageKinds: models),
        SettingSpec(name: "discriminator", kind: .architecture, defaultValue: nil, stageKinds: models),
        SettingSpec(name: "noise", kind: .choice(["uniform", "normal"]), defaultValue: "uniform", stageKinds: train),
        SettingSpec(name: "optimizer", kind: .choice(["adam", "rmsprop", "sgd"]), defaultValue: "adam", stageKinds: train),
        SettingSpec(name: "learning-rate", kind: .number(1e-8...10), defaultValue: "2e-4", stageKinds: train),
        SettingSpec(name: "beta1", kind: .number(0...0.999999), defaultValue: "0.9", stageKinds: train),
        SettingSpec(name: "beta2", kind: .number(0...0.999999), defaultValue: "0.999", stageKinds: train),
        SettingSpec(name: "epsilon", kind: .number(0...1), defaultValue: "1e-7", stageKinds: train),
        SettingSpec(name: "rho", kind: .number(0...0.999999), defaultValue: "0.9", stageKinds: train),
        SettingSpec(name: "momentum", kind: .number(0...0.999999), defaultValue: "0", stageKinds: train),
        SettingSpec(name: "batch-size", kind: .integer(1...65_536), defaultValue: "64", stageKinds: train),
        SettingSpec(name: "epochs", kind: .integer(1...1_000_000), defaultValue: "100", stageKinds: train),
        SettingSpec(name: "steps-per-epoch", kind: .integer(1...1_000_000), defaultValue: "16", stageKinds: train),
        SettingSpec(name: "label-noise", kind: .number(0...0.5), defaultValue: "0", stageKinds: train),
        SettingSpec(name: "real-label", kind: .number(0.5...1), defaultValue: "1", stageKinds: train),
        SettingSpec(name: "snapshot-every", kind: .integer(1...1_000_000), defaultValue: "10", stageKinds: train),
    ]
}()

/// Settings only the front matter may hold.
let headerSpecs: [SettingSpec] = [
    SettingSpec(name: "lesson", kind: .integer(1...99), defaultValue: nil, stageKinds: []),
    SettingSpec(name: "title", kind: .text, defaultValue: nil, stageKinds: []),
    SettingSpec(name: "summary", kind: .text, defaultValue: nil, stageKinds: []),
    SettingSpec(name: "seed", kind: .integer(0...Int.max), defaultValue: "1", stageKinds: []),
]

func spec(named name: String) -> SettingSpec? { settingSpecs.first { $0.name == name } }

/// Parses "-3..3" into a closed range.
func parseInterval(_ text: String) -> ClosedRange<Double>? {
    let parts = text.components(separatedBy: "..")
    guard parts.count == 2, let low = Double(parts[0].trimmingCharacters(in: .whitespaces)),
          let high = Double(parts[1].trimmingCharacters(in: .whitespaces)), low < high, low.isFinite, high.isFinite
    else { return nil }
    return low...high
}

private func format(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e9 ? String(Int(value)) : "\(value)"
}

/// A name close to `name` among `known` (for "did you mean" hints).
func suggestion(for name: String, among known: [String]) -> String? {
    func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in 1...max(b.count, 1) where !b.isEmpty {
                let saved = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = saved
            }
        }
        return row[b.count]
    }
    let best = known.map { ($0, distance(name, $0)) }.min { $0.1 < $1.1 }
    return best.flatMap { $0.1 <= max(2, name.count / 3) ? $0.0 : nil }
}
