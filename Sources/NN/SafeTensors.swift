import Foundation
import Kernels

/// A safetensors file of F32 tensors (and I64 ones, which PyTorch's BatchNorm counts its batches
/// in): an 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape and
/// byte range, then the raw little-endian data. Reading validates every length and offset before
/// touching the data.
public struct SafeTensors {
    /// The F32 tensors in the order of their data.
    public var tensors: [(name: String, tensor: Tensor)]
    /// The I64 tensors, written after the F32 ones.
    public var integerTensors: [(name: String, shape: [Int], values: [Int64])] = []
    /// Free-form string metadata (`__metadata__`).
    public var metadata: [String: String]

    /// Largest header accepted when reading (bytes).
    public static let maximumHeaderLength = 100 << 20

    public init(tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    public subscript(name: String) -> Tensor? { tensors.first { $0.name == name }?.tensor }

    public init(contentsOf url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw SafeTensorsError("cannot read \(url.path): \(error.localizedDescription)")
        }
        try self.init(data: data)
    }

    public init(data: Data) throws {
        guard data.count >= 8 else { throw SafeTensorsError("file of \(data.count) bytes is too short for a safetensors header") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(min(Self.maximumHeaderLength, data.count - 8)) else {
            throw SafeTensorsError("header length \(headerLength) exceeds the file (\(data.count) bytes) or the \(Self.maximumHeaderLength)-byte limit")
        }
        let headerEnd = 8 + Int(headerLength)
        let dataLength = data.count - headerEnd
        guard let header = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<headerEnd)) as? [String: Any] else {
            throw SafeTensorsError("header is not a JSON object")
        }
        var entries: [(name: String, shape: [Int], range: Range<Int>, integer: Bool)] = []
        metadata = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                guard let fields = value as? [String: Any] else { throw SafeTensorsError("__metadata__ is not an object") }
                for (key, field) in fields {
                    guard let text = field as? String else { throw SafeTensorsError("metadata \"\(key)\" is not a string") }
                    metadata[key] = text
                }
                continue
            }
            guard let entry = value as? [String: Any] else { throw SafeTensorsError("tensor \"\(name)\": entry is not an object") }
            guard let dtype = entry["dtype"] as? String, dtype == "F32" || dtype == "I64" else {
                throw SafeTensorsError("tensor \"\(name)\": dtype \(entry["dtype"] ?? "missing") is not supported (only F32, and I64 counts)")
            }
            let elementSize = dtype == "F32" ? 4 : 8
            guard let shape = (entry["shape"] as? [Any])?.compactMap(exactInteger), shape.count == (entry["shape"] as? [Any])?.count,
                  shape.allSatisfy({ $0 >= 0 }) else {
                throw SafeTensorsError("tensor \"\(name)\": shape is not a list of non-negative integers")
            }
            guard let offsets = (entry["data_offsets"] as? [Any])?.compactMap(exactInteger), offsets.count == 2 else {
                throw SafeTensorsError("tensor \"\(name)\": data_offsets is not a pair of integers")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end, end <= dataLength else {
                throw SafeTensorsError("tensor \"\(name)\": offsets [\(begin), \(end)] outside the \(dataLength) bytes of data")
            }
            var bytes = elementSize, overflow = false
            for dimension in shape where !overflow { (bytes, overflow) = bytes.multipliedReportingOverflow(by: dimension) }
            guard !overflow, bytes == end - begin else {
                throw SafeTensorsError("tensor \"\(name)\": shape \(shape) needs \(overflow ? "too many" : "\(bytes)") bytes, offsets give \(end - begin)")
            }
            entries.append((name, shape, begin..<end, dtype == "I64"))
        }
        entries.sort { ($0.range.lowerBound, $0.range.upperBound) < ($1.range.lowerBound, $1.range.upperBound) }
        for (previous, next) in zip(entries, entries.dropFirst()) where next.range.lowerBound < previous.range.upperBound {
            throw SafeTensorsError("tensors \"\(previous.name)\" and \"\(next.name)\" overlap")
        }
        var integers: [(name: String, shape: [Int], values: [Int64])] = []
        for entry in entries where entry.integer {
            let values: [Int64] = data.withUnsafeBytes { raw in
                (0..<(entry.range.count / 8)).map { i in
                    Int64(littleEndian: raw.loadUnaligned(fromByteOffset: headerEnd + entry.range.lowerBound + 8 * i, as: Int64.self))
                }
            }
            integers.append((entry.name, entry.shape, values))
        }
        integerTensors = integers
        tensors = entries.filter { !$0.integer }.map { entry in
            var tensor = Tensor(uninitializedShape: entry.shape)
            tensor.withUnsafeMutableBufferPointer { target in
                data.withUnsafeBytes { raw in
                    let base = headerEnd + entry.range.lowerBound
                    for i in 0..<target.count {
                        target[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base + 4 * i, as: UInt32.self)))
                    }
                }
            }
            return (entry.name, tensor)
        }
    }

    /// The file's bytes.
    public func encoded() -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for (name, tensor) in tensors {
            header[name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [offset, offset + 4 * tensor.count]] as [String: Any]
            offset += 4 * tensor.count
        }
        for (name, shape, values) in integerTensors {
            header[name] = ["dtype": "I64", "shape": shape, "data_offsets": [offset, offset + 8 * values.count]] as [String: Any]
            offset += 8 * values.count
        }
        var json = (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data("{}".utf8)
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        var data = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for (_, tensor) in tensors {
            tensor.withUnsafeBufferPointer { values in
                var bytes = [UInt8](repeating: 0, count: 4 * values.count)
                for (i, value) in values.enumerated() {
                    withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.replaceSubrange((4 * i)..<(4 * i + 4), with: $0) }
                }
                data.append(contentsOf: bytes)
            }
        }
        for (_, _, values) in integerTensors {
            for value in values { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
        }
        return data
    }

    public func write(to url: URL) throws {
        do { try encoded().write(to: url, options: .atomic) } catch {
            throw SafeTensorsError("cannot write \(url.path): \(error.localizedDescription)")
        }
    }
}

/// An integer given as a JSON number without a fractional part.
private func exactInteger(_ value: Any) -> Int? {
    if let integer = value as? Int { return integer }
    guard let number = value as? Double, number == number.rounded(), abs(number) < 0x1p53 else { return nil }
    return Int(number)
}

/// A safetensors file or checkpoint that cannot be used; the message says why.
public struct SafeTensorsError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
