import Foundation
import Kernels
import NN
import XCTest

final class CheckpointTests: XCTestCase {
    var random = RandomSource(seed: 51)
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gan-lab-checkpoints-\(getpid())")

    override func setUp() { try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
    override func tearDown() { try? FileManager.default.removeItem(at: folder) }

    func model() -> Sequential {
        Sequential([Dense(inputSize: 3, outputSize: 4, using: &random), BatchNormalization(featureCount: 4), LeakyReLU(),
                    Dense(inputSize: 4, outputSize: 1, using: &random)])
    }

    func testModelAndOptimizerRoundTrip() throws {
        let original = model()
        let optimizer = Adam(parameters: original.parameters, learningRate: 0.1)
        for _ in 0..<3 { optimizer.update(with: original.parameters.map { Tensor.uniform(shape: $0.value.shape, low: -1, high: 1, using: &random) }) }
        let url = folder.appendingPathComponent("model.safetensors")
        try Checkpoint(model: original, optimizer: optimizer).save(to: url, metadata: ["seed": "51"])

        let restored = model()
        let restoredOptimizer = Adam(parameters: restored.parameters, learningRate: 0.1)
        try Checkpoint(model: restored, optimizer: restoredOptimizer).load(from: url)
        for ((name, a), (_, b)) in zip(original.namedTensors, restored.namedTensors) { XCTAssertEqual(a.value.scalars, b.value.scalars, name) }
        XCTAssertEqual(restoredOptimizer.step, 3)
        // The next update is identical: the moments came back too.
        let gradient = original.parameters.map { Tensor(shape: $0.value.shape, repeating: 0.5) }
        optimizer.update(with: gradient)
        restoredOptimizer.update(with: gradient)
        XCTAssertEqual(original.parameters[0].value.scalars, restored.parameters[0].value.scalars)

        let file = try SafeTensors(contentsOf: url)
        XCTAssertEqual(file.metadata["seed"], "51")
        XCTAssertEqual(Array(file.tensors.map(\.name).prefix(6)),
                       ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var"])
        XCTAssertNotNil(file["optimizer.0.weight.exp_avg_sq"])
    }

    func testAnotherModelsFileNamesTheFirstMismatch() throws {
        let url = folder.appendingPathComponent("other.safetensors")
        try Checkpoint(model: Sequential([Dense(inputSize: 3, outputSize: 5, using: &random)])).save(to: url)
        let target = model()
        let before = target.parameters[0].value.scalars
        XCTAssertThrowsError(try Checkpoint(model: target).load(from: url)) { error in
            XCTAssertTrue("\(error)".contains("\"0.weight\" has shape [5, 3] in the file, [4, 3] in the model"), "\(error)")
        }
        XCTAssertEqual(target.parameters[0].value.scalars, before, "nothing loaded from a mismatching file")
        try Checkpoint(model: Sequential([Dense(inputSize: 3, outputSize: 4, using: &random)])).save(to: url)
        XCTAssertThrowsError(try Checkpoint(model: target).load(from: url)) { error in
            XCTAssertTrue("\(error)".contains("\"1.weight\" [4] is missing"), "\(error)")
        }
    }

    /// A file with `header` as its JSON header and `dataBytes` bytes of data.
    func file(header: String, dataBytes: Int = 16, declaredLength: UInt64? = nil) -> Data {
        var data = Data()
        withUnsafeBytes(of: (declaredLength ?? UInt64(header.utf8.count)).littleEndian) { data.append(contentsOf: $0) }
        data.append(Data(header.utf8))
        data.append(Data(repeating: 0, count: dataBytes))
        return data
    }

    func assertRejected(_ data: Data, _ expected: String, line: UInt = #line) {
        XCTAssertThrowsError(try SafeTensors(data: data), line: line) { error in
            XCTAssertTrue("\(error)".contains(expected), "\(error)", line: line)
        }
    }

    /// I64 tensors (PyTorch's BatchNorm counts batches in one) are written after the F32 ones and read back.
    func testIntegerTensorsRoundTrip() throws {
        var written = SafeTensors(tensors: [("w", Tensor(shape: [2], scalars: [1, -2]))])
        written.integerTensors = [("1.num_batches_tracked", [], [12_345_678_901]), ("counts", [3], [-1, 0, 7])]
        let data = written.encoded()
        let read = try SafeTensors(data: data)
        XCTAssertEqual(read["w"]?.scalars, [1, -2])
        XCTAssertEqual(read.integerTensors.map(\.name), ["1.num_batches_tracked", "counts"])
        XCTAssertEqual(read.integerTensors.map(\.shape), [[], [3]])
        XCTAssertEqual(read.integerTensors.map(\.values), [[12_345_678_901], [-1, 0, 7]])
        let header = String(decoding: data.dropFirst(8).prefix(Int(data[0]) | Int(data[1]) << 8), as: UTF8.self)
        XCTAssertTrue(header.contains(#""1.num_batches_tracked":{"data_offsets":[8,16],"dtype":"I64","shape":[]}"#), header)
        assertRejected(file(header: #"{"a":{"dtype":"I64","shape":[2],"data_offsets":[0,8]}}"#), "needs 16 bytes")
    }

    func testHostileFilesAreRejected() {
        let good = #"{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}"#
        XCTAssertEqual(try SafeTensors(data: file(header: good))["a"]?.shape, [2, 2])
        assertRejected(Data([1, 2, 3]), "too short")
        assertRejected(file(header: good, declaredLength: 1 << 40), "exceeds the file")
        assertRejected(file(header: good, declaredLength: UInt64.max), "exceeds the file")
        assertRejected(file(header: good, dataBytes: 8), "outside the 8 bytes")
        assertRejected(file(header: "not json"), "not a JSON object")
        assertRejected(file(header: #"{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[16,0]}}"#), "outside")
        assertRejected(file(header: #"{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[-4,12]}}"#), "outside")
        assertRejected(file(header: #"{"a":{"dtype":"F32","shape":[3,2],"data_offsets":[0,16]}}"#), "needs 24 bytes")
        assertRejected(file(header: #"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,16]}}"#), "too many")
        assertRejected(file(header: #"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,16]}}"#), "non-negative")
        assertRejected(file(header: #"{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}}"#), "only F32")
        assertRejected(file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#),
                       "overlap")
        // Every truncation of a valid checkpoint is rejected, never read past its end.
        let valid = SafeTensors(tensors: [("w", Tensor(shape: [3, 2], repeating: 1.5))], metadata: ["k": "v"]).encoded()
        XCTAssertEqual(try SafeTensors(data: valid)["w"]?.scalars, [Float](repeating: 1.5, count: 6))
        for length in stride(from: 0, to: valid.count, by: 3) {
            XCTAssertThrowsError(try SafeTensors(data: valid.prefix(length)), "truncated to \(length)")
        }
    }
}
