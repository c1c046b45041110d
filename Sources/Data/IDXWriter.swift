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
    public func writeIDX(to path: String) throws {
        guard channels == 1 || channels == 3 else {
            throw DataError("\(path): IDX image files hold grey or RGB images; these have \(channels) channels")
        }
        let data = IDX.encoded(dimensions: channels == 1 ? [count, height, width] : [count, height, width, 3], values: pixelBytes())
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
