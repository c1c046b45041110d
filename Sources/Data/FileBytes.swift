import CZlib
import Foundation

/// The bytes of a file, inflated first when it is gzip-compressed (it starts with 1f 8b).
func fileBytes(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
        let exists = FileManager.default.fileExists(atPath: path)
        throw DataError(exists ? "\(path): cannot be read (check its permissions)" : "\(path): no such file")
    }
    let bytes = [UInt8](data)
    guard bytes.count >= 2, bytes[0] == 0x1f, bytes[1] == 0x8b else { return bytes }
    return try gunzip(bytes, path: path)
}

/// Inflates a whole gzip stream (one or more members) in memory.
func gunzip(_ compressed: [UInt8], path: String) throws -> [UInt8] {
    var stream = z_stream()
    guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
        throw DataError("\(path): zlib could not start inflating")
    }
    defer { inflateEnd(&stream) }
    var output: [UInt8] = []
    output.reserveCapacity(compressed.count * 4)
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    try compressed.withUnsafeBufferPointer { input in
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress!)
        stream.avail_in = UInt32(input.count)
        while true {
            let status = chunk.withUnsafeMutableBufferPointer { buffer -> Int32 in
                stream.next_out = buffer.baseAddress
                stream.avail_out = UInt32(buffer.count)
                return inflate(&stream, Z_NO_FLUSH)
            }
            output.append(contentsOf: chunk[0..<(chunk.count - Int(stream.avail_out))])
            if status == Z_STREAM_END {
                if stream.avail_in == 0 { return }
                inflateReset(&stream)  // another gzip member follows
                continue
            }
            if status == Z_BUF_ERROR || (status == Z_OK && stream.avail_in == 0 && stream.avail_out > 0) {
                throw DataError("\(path): the gzip data ends early (truncated at \(compressed.count) bytes; download or install it again)")
            }
            guard status == Z_OK else {
                throw DataError("\(path): the gzip data is corrupt near byte \(compressed.count - Int(stream.avail_in)) (download or install it again)")
            }
        }
    }
    return output
}

/// `bytes` as one gzip member (deflate, level 6), as `gzip` and Python's `gzip.open` read it.
func gzipped(_ bytes: [UInt8]) -> [UInt8] {
    var stream = z_stream()
    guard deflateInit2_(&stream, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
                        Int32(MemoryLayout<z_stream>.size)) == Z_OK else { fatalError("zlib could not start deflating") }
    defer { deflateEnd(&stream) }
    var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(bytes.count))) + 32)
    let status = bytes.withUnsafeBufferPointer { input in
        output.withUnsafeMutableBufferPointer { target -> Int32 in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.avail_in = UInt32(input.count)
            stream.next_out = target.baseAddress
            stream.avail_out = UInt32(target.count)
            return deflate(&stream, Z_FINISH)
        }
    }
    // The output buffer holds deflateBound's worst case, so one call always finishes.
    guard status == Z_STREAM_END else { fatalError("zlib could not finish deflating (status \(status))") }
    return Array(output[0..<Int(stream.total_out)])
}
