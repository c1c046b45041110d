/// The IDX format of MNIST and Fashion-MNIST (LeCun's): two zero bytes, a type byte (0x08:
/// unsigned bytes), the number of dimensions, each dimension as a big-endian 32-bit count, then
/// the values. Files may be gzip-compressed (`*-idx3-ubyte.gz`).
enum IDX {
    /// The dimensions and the values of an IDX file of unsigned bytes.
    static func read(_ path: String) throws -> (dimensions: [Int], values: ArraySlice<UInt8>) {
        let bytes = try fileBytes(path)
        guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0 else {
            throw DataError("\(path): not an IDX file (it must start with two zero bytes; is it an MNIST-style *-ubyte file?)")
        }
        guard bytes[2] == 0x08 else {
            throw DataError("\(path): IDX values of type 0x\(String(bytes[2], radix: 16)); the lab reads unsigned bytes (0x08)")
        }
        let rank = Int(bytes[3])
        guard (1...4).contains(rank) else { throw DataError("\(path): an IDX file with \(rank) dimensions; expected 1 to 4") }
        let header = 4 + 4 * rank
        guard bytes.count >= header else { throw DataError("\(path): truncated in its header (\(bytes.count) bytes)") }
        let dimensions = (0..<rank).map { d in
            (0..<4).reduce(0) { $0 << 8 | Int(bytes[4 + 4 * d + $1]) }
        }
        let expected = dimensions.reduce(1) { min($0 * $1, 1 << 40) }  // each count is below 2^32
        guard dimensions.allSatisfy({ $0 > 0 }), expected <= 1 << 34 else {
            throw DataError("\(path): IDX dimensions \(dimensions) are not a data set")
        }
        guard bytes.count - header == expected else {
            let what = bytes.count - header < expected ? "is truncated" : "has extra bytes"
            throw DataError("\(path): \(what): its header promises \(dimensions.map(String.init).joined(separator: "×")) = \(expected) values, the file holds \(bytes.count - header)")
        }
        return (dimensions, bytes[header...])
    }

    /// Images from an IDX image file and, if given, labels from an IDX label file.
    static func images(_ imagePath: String, labels labelPath: String?) throws -> ImageSet {
        let (dimensions, values) = try read(imagePath)
        guard dimensions.count == 3 || (dimensions.count == 4 && [1, 3].contains(dimensions[3])) else {
            throw DataError("\(imagePath): an IDX image file has 3 dimensions (count, rows, columns) or 4 (count, rows, columns, "
                + "1 or 3 channels), this one \(dimensions.map(String.init).joined(separator: "×"))")
        }
        var labels: [Int]?
        if let labelPath {
            let (labelDimensions, labelValues) = try read(labelPath)
            guard labelDimensions.count == 1, labelDimensions[0] == dimensions[0] else {
                throw DataError("\(labelPath): \(labelDimensions.first ?? 0) labels for \(dimensions[0]) images in \(imagePath)")
            }
            labels = labelValues.map(Int.init)
        }
        return values.withContiguousStorageIfAvailable { pixels in
            ImageSet.fromBytes(pixels, count: dimensions[0], channels: dimensions.count == 4 ? dimensions[3] : 1,
                               height: dimensions[1], width: dimensions[2],
                               labels: labels, source: imagePath)
        }!
    }
}
