import Foundation
import Kernels

/// The folder a run writes into, and the files it has written.
final class OutputFolder {
    let root: String
    private(set) var figures: [String] = []

    /// Creates `<out>/lesson-NN/`, or explains why it cannot.
    init(outputRoot: String, lessonNumber: Int) throws {
        root = (outputRoot as NSString).appendingPathComponent(String(format: "lesson-%02d", lessonNumber))
        try OutputFolder.makeFolder(root)
    }

    /// Creates the folder (and its missing parents) if missing, or says in one line why it cannot be
    /// written into, in the system's words.
    static func makeFolder(_ path: String) throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue {
            throw LessonError(["\(path) is a file, not a folder; move it or give another folder with --out"])
        }
        var missing: [String] = []
        var folder = path
        while !folder.isEmpty, folder != "/", !FileManager.default.fileExists(atPath: folder) {
            missing.append(folder)
            folder = (folder as NSString).deletingLastPathComponent
        }
        for folder in missing.reversed() where mkdir(folder, 0o755) != 0 && errno != EEXIST {
            throw LessonError(["cannot create the folder \(folder) (\(String(cString: strerror(errno)))); choose another with --out"])
        }
        guard access(path, W_OK | X_OK) == 0 else {
            throw LessonError(["the folder \(path) is not writable; choose another with --out"])
        }
    }

    /// The path of a file in a stage's folder (`stage-2/samples-epoch-0040.png`), creating the folder.
    func path(stage: Int, name: String) throws -> String {
        let folder = (root as NSString).appendingPathComponent("stage-\(stage)")
        try OutputFolder.makeFolder(folder)
        return (folder as NSString).appendingPathComponent(name)
    }

    func recordFigure(_ path: String) { figures.append(path) }

    /// A path inside the lesson folder, relative to it (as summary.json and index.html cite figures).
    func relative(_ path: String) -> String {
        path.hasPrefix(root + "/") ? String(path.dropFirst(root.count + 1)) : path
    }

    /// Writes `data` to `name` in the lesson folder, atomically (temporary file, then rename).
    func write(_ data: Data, name: String) throws {
        try writeAtomically(data, to: (root as NSString).appendingPathComponent(name))
    }
}

/// Writes `data` to `path` atomically: a temporary file in the same folder, then a rename, so that
/// a reader never sees half a file.
func writeAtomically(_ data: Data, to path: String) throws {
    do {
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        throw LessonError(["cannot write \(path) (\(reason(error))); choose another folder with --out"])
    }
}

private func reason(_ error: Error) -> String {
    let nsError = error as NSError
    if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError {
        return String(cString: strerror(Int32(underlying.code)))
    }
    return nsError.localizedDescription
}

/// One row of metrics.csv: the columns every training step has, and any a stage adds (`extra`).
struct MetricsRow: Codable {
    var stage: Int
    var step: Int
    var epoch: Int
    /// Which networks the step updated: D, G or D+G.
    var update: String
    var discriminatorLoss: Float
    var generatorLoss: Float
    var realAccuracy: Float
    var fakeAccuracy: Float
    var realScore: Float
    var fakeScore: Float
    /// D(G(z)) on the G step's own samples (PyTorch's DCGAN example prints it after the D step's).
    var generatorStepFakeScore: Float
    var learningRate: Float
    /// Values of columns a stage declares (a snapshot's measurements, say), by column name.
    var extra: [String: Double] = [:]

    static let columns = ["stage", "step", "epoch", "update", "discriminator_loss", "generator_loss", "real_accuracy",
                          "fake_accuracy", "d_x", "d_g_z", "d_g_z_g_step", "learning_rate"]

    /// The file: the common columns, then every extra column some row has (in the order they
    /// first appear); values a step did not measure (NaN, or a column it lacks) are left empty.
    static func csv(_ rows: [MetricsRow]) -> String {
        var extraColumns: [String] = []
        for row in rows {
            for name in row.extra.keys.sorted() where !extraColumns.contains(name) { extraColumns.append(name) }
        }
        let lines = rows.map { row -> String in
            let values = [row.discriminatorLoss, row.generatorLoss, row.realAccuracy, row.fakeAccuracy, row.realScore, row.fakeScore,
                          row.generatorStepFakeScore, row.learningRate]
            let common = "\(row.stage),\(row.step),\(row.epoch),\(row.update)," + values.map { $0.isNaN ? "" : "\($0)" }.joined(separator: ",")
            let extra = extraColumns.map { name in row.extra[name].map { $0.isNaN ? "" : "\($0)" } ?? "" }
            return ([common] + extra).joined(separator: ",")
        }
        return ([(columns + extraColumns).joined(separator: ",")] + lines).joined(separator: "\n") + "\n"
    }
}

/// What summary.json holds.
struct RunSummary: Encodable {
    struct Stage: Encodable {
        var number: Int
        var id: String
        var kind: String
        var title: String
        var settings: [String: String]
        var metrics: [String: Double]
        var figures: [String]
        var completed: Bool
    }
    var lesson: Int
    var title: String
    var file: String
    var seed: UInt64
    var threads: Int
    /// What fixes every number: the seed and settings, and for stages on the fastest kernels the
    /// OpenBLAS kernel set too (never the thread count).
    var reproducible: String
    /// The processor, its instruction set and the kernels that ran the products.
    var machine: [String: String]
    var quick: Bool
    var overrides: [String]
    var interrupted: Bool
    var durationSeconds: Double
    var stages: [Stage]
    var figures: [String]

    enum CodingKeys: String, CodingKey {
        case lesson, title, file, seed, threads, quick, overrides, interrupted, stages, figures
        case durationSeconds = "duration_seconds"
        case reproducible = "numbers_fixed_by", machine
    }

    /// `reproducible` and `machine` for a run whose stages used `kernels`.
    static func machineFields(kernels: Set<ProductKernels>) -> (String, [String: String]) {
        let report = matrixKernelReport()
        let fixedBy = kernels.contains(.fastest)
            ? "the seed, the settings, OpenBLAS's kernel set (\(report.openBLAS ?? "none")) and \(report.convolutions): stages with "
                + "products: fastest give other last bits on other kernel sets"
            : "the seed and the settings: every product ran on the portable kernels, the same numbers on every x86-64 machine"
        return (fixedBy, ["processor": report.processor, "instruction_set": report.instructionSet,
                          "portable_kernels": report.portable, "blas_kernels": report.openBLAS ?? "none",
                          "blas_reason": report.openBLASReason, "convolution_kernels": report.convolutions])
    }

    func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
