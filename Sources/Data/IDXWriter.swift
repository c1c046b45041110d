import Foundation

extension IDX {
    /// The bytes of an IDX file of unsigned bytes (type 0x08) with these dimensions, as `read` reads them.
    static func encoded(dimensions: [Int], values: [UInt8]) -> Data {
        precondition((1...4).contains(dimensions.count) && dimensions.allSatisfy { $0 > 0 && $0 <= Int(UInt32.max) },
                     "IDX dimensions \(dimensions)")
        precondition(dimensions.reduce(1, *) == values.count, "IDX dimensions \(dimensions) do not hold \(values.count) values")
        var data = Data([0, 0, 0x08, UInt8(dimensions.count)])
        data.reserveCapacity(4 + 4 * dimensions.count + values.count)
        for size in dimensions { data.append(contentsOf: (0..<4).map { UInt8(truncatingIfNeeded: size >> (24 - 8 * $0)) }) }
        data.append(contentsOf: values)
        return data
    }
}

extension ImageSet {
    /// The images as an MNIST-style IDX file (grey: `*-idx3-ubyte`, count, rows, columns; colour:
    /// `*-idx4-ubyte`, count, rows, columns, 3; then the pixels as `pixelBytes()` makes them), which
    /// `ImageSource.idx` reads back. Written atomically: a temporary file in the same folder, then a rename.
    /// A path ending in `.gz` gets the file gzip-compressed.
    public func writeIDX(to path: String) throws {
        guard channels == 1 || channels == 3 else {
            throw DataError("\(path): IDX image files hold grey or RGB images; these have \(channels) channels")
        }
        try IDX.write(idxData(gzip: path.hasSuffix(".gz")), to: path)
    }

    /// The labels as an MNIST-style IDX label file (`*-labels-idx1-ubyte`: count, then a byte a
    /// label), gzip-compressed when the path ends in `.gz`; written atomically.
    public func writeLabelsIDX(to path: String) throws {
        guard labels?.allSatisfy({ (0...255).contains($0) }) == true else {
            throw DataError("\(path): these images have no labels of 0 to 255 to write")
        }
        try IDX.write(labelsIDXData(gzip: path.hasSuffix(".gz")), to: path)
    }

    /// The bytes `writeIDX` writes (grey or RGB images only), gzip-compressed if `gzip`.
    public func idxData(gzip: Bool) -> Data {
        precondition(channels == 1 || channels == 3, "IDX image files hold grey or RGB images, not \(channels) channels")
        return IDX.file(dimensions: channels == 1 ? [count, height, width] : [count, height, width, 3], values: pixelBytes(), gzip: gzip)
    }

    /// The bytes `writeLabelsIDX` writes (labels of 0 to 255 only), gzip-compressed if `gzip`.
    public func labelsIDXData(gzip: Bool) -> Data {
        let labels = self.labels ?? []
        precondition(labels.count == count && labels.allSatisfy { (0...255).contains($0) }, "IDX label files hold a label of 0 to 255 an image")
        return IDX.file(dimensions: [labels.count], values: labels.map { UInt8($0) }, gzip: gzip)
    }
}

extension IDX {
    /// An IDX file's bytes, gzip-compressed if `gzip`.
    static func file(dimensions: [Int], values: [UInt8], gzip: Bool) -> Data {
        let encoded = encoded(dimensions: dimensions, values: values)
        return gzip ? Data(gzipped([UInt8](encoded))) : encoded
    }

    static func write(_ data: Data, to path: String) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw DataError("\(path): cannot be written (\(writeFailure(error))); choose another folder")
        }
    }
}

/// Why a write failed, in the system's words ("Permission denied", "No space left on device").
func writeFailure(_ error: Error) -> String {
    let nsError = error as NSError
    if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
        return String(cString: strerror(Int32(underlying.code)))
    }
    return nsError.localizedDescription
}
