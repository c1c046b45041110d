import Foundation
import GAN
import Kernels

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

/// One known setting: its name, kind of value and default (nil: the lesson must give it).
struct SettingSpec {
    let name: String
    let kind: ValueKind
    let defaultValue: String?

    init(_ name: String, _ kind: ValueKind, _ defaultValue: String?) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
    }
}

/// A kind of stage: the settings it reads and what it does. Each lives in its own file.
protocol StageKind {
    static var name: String { get }
    /// The settings this kind reads (besides `id` and `kind`).
    static var settings: [SettingSpec] { get }
    static func run(_ context: StageContext) throws -> StageOutcome
    /// Problems between settings that are each valid alone (a generator too wide for its discriminator).
    static func crossCheck(_ settings: StageSettings) -> [String]
}

extension StageKind {
    static func crossCheck(_ settings: StageSettings) -> [String] { [] }

    /// Every setting a stage of this kind reads: its own and those every stage has.
    static var readSettings: [SettingSpec] { settings + commonSettings }
}

/// Settings every stage reads. `products`: the kernels of its matrix products, portable (every
/// number the same on every machine) or fastest (OpenBLAS's kernels for this CPU; the last bits,
/// and so a GAN's trajectory, depend on the machine).
let commonSettings = [SettingSpec("products", .choice(ProductKernels.allCases.map(\.rawValue)), "portable")]

/// Every stage kind a lesson can use.
let stageKindRegistry: [StageKind.Type] = [DataStage.self, ModelsStage.self, TrainStage.self, MixtureStage.self, CollapseStage.self, ScoreboardStage.self, CriticSurfaceStage.self, JudgeStage.self, ImageTrainStage.self,
                                           CompareImagesStage.self]

var stageKindNames: [String] { stageKindRegistry.map { $0.name } }

func stageKind(named name: String) -> StageKind.Type? { stageKindRegistry.first { $0.name == name } }

/// Settings every stage has.
let identitySettings = [SettingSpec("id", .text, nil), SettingSpec("kind", .choice(stageKindNames), nil)]

/// Settings of the toy data sets, shared by the stages that draw or train on them.
let dataSettings = [
    dataSetting,
    SettingSpec("data-std", .number(1e-4...1e4), "0.5"),
    SettingSpec("data-mean-x", .number(-1e4...1e4), "0"),
    SettingSpec("data-mean-y", .number(-1e4...1e4), "0"),
    SettingSpec("points", .integer(1...1_000_000), "1000"),
    SettingSpec("axes", .interval, "-3..3"),
    SettingSpec("axes-y", .text, "same"),
    SettingSpec("data-file", .text, "none"),
]

/// Which data a stage draws or trains on.
let dataSetting = SettingSpec("data", .choice(toyDataNames + imageDataNames), "gaussian")

/// The 2-D toy data sets (`points`: a user's CSV of x,y rows in `data-file`), and the image sets a
/// data stage can show (`shapes`: the coloured shapes the lab draws; `images`: the file in `data-file`).
let toyDataNames = ["gaussian", "disk", "quadratic", "points"]
let imageDataNames = ["mnist", "fashion-mnist", "shapes", "images"]

/// Settings of a data stage that shows an image set.
let imageDataSettings = [
    SettingSpec("data-labels", .text, "none"),
    SettingSpec("image-size", .integer(4...256), "28"),
    SettingSpec("samples-per-class", .integer(1...20), "10"),
]

/// Stages that train on points need one of the toy data sets; a user's points file must read.
func checkToyData(_ settings: StageSettings) -> [String] {
    let data = settings.text("data")
    if imageDataNames.contains(data) {
        return ["data: \(data) is an image set; this stage trains on 2-D points (\(toyDataNames.joined(separator: ", ")))"]
    }
    return checkPointsFile(settings)
}

/// `data: points` needs a readable `data-file` of x,y rows: read it now, before anything runs.
func checkPointsFile(_ settings: StageSettings) -> [String] {
    guard settings.text("data") == "points" else { return [] }
    do {
        _ = try settings.toyDistribution()
        return []
    } catch let error as LessonError {
        return error.problems
    } catch {
        return ["data-file \(settings.text("data-file")): \(error)"]
    }
}

/// The two networks, written as layer chains.
let modelSettings = [
    SettingSpec("generator", .architecture, nil),
    SettingSpec("discriminator", .architecture, nil),
]

/// Every stage setting of every kind (front matter may set any of them as a default).
let settingSpecs: [SettingSpec] = {
    var seen = Set<String>()
    return (identitySettings + commonSettings + stageKindRegistry.flatMap { $0.settings }).filter { seen.insert($0.name).inserted }
}()

/// Settings only the front matter may hold.
let headerSpecs: [SettingSpec] = [
    SettingSpec("lesson", .integer(1...99), nil),
    SettingSpec("title", .text, nil),
    SettingSpec("summary", .text, nil),
    SettingSpec("seed", .integer(0...Int.max), "1"),
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
