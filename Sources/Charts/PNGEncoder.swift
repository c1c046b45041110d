import CCairo
import CZlib
import Foundation

/// Writes an opaque Cairo image surface as an 8-bit RGB PNG, faster than Cairo's own writer, and
/// plain grey or RGB pixels as they are: every row uses the "up" filter and zlib's run-length strategy, which suits flat chart colours.
/// The output depends only on the pixels, so the same figure gives the same bytes.
enum PNGEncoder {
    static func encode(_ surface: OpaquePointer) throws -> Data {
        cairo_surface_flush(surface)
        let width = Int(cairo_image_surface_get_width(surface))
        let height = Int(cairo_image_surface_get_height(surface))
        let stride = Int(cairo_image_surface_get_stride(surface))
        guard let data = cairo_image_surface_get_data(surface), width > 0, height > 0 else {
            throw ChartError("cannot encode an empty image")
        }
        // Filtered scanlines: a filter byte (2 = up) and RGB bytes minus the bytes of the row above.
        let rowLength = 1 + width * 3
        var raw = [UInt8](repeating: 0, count: rowLength * height)
        var previous = [UInt8](repeating: 0, count: width * 3)
        var current = [UInt8](repeating: 0, count: width * 3)
        for row in 0..<height {
            let pixels = UnsafeRawPointer(data + row * stride).assumingMemoryBound(to: UInt32.self)
            for column in 0..<width {
                let pixel = pixels[column]
                current[column * 3] = UInt8(truncatingIfNeeded: pixel >> 16)
                current[column * 3 + 1] = UInt8(truncatingIfNeeded: pixel >> 8)
                current[column * 3 + 2] = UInt8(truncatingIfNeeded: pixel)
            }
            let start = row * rowLength
            raw[start] = 2
            for index in 0..<(width * 3) { raw[start + 1 + index] = current[index] &- previous[index] }
            swap(&previous, &current)
        }
        return try assemble(raw, width: width, height: height, colourType: 2)
    }

    /// 8-bit pixels, row-major (grey: one byte a pixel; RGB: three, interleaved) as a grey
    /// (colour type 0) or RGB (2) PNG, filtered and compressed as charts are.
    static func encode(pixels: [UInt8], width: Int, height: Int, channels: Int) throws -> Data {
        guard width > 0, height > 0, channels == 1 || channels == 3, pixels.count == width * height * channels else {
            throw ChartError("cannot encode \(pixels.count) bytes as a \(width)×\(height) image of \(channels) channels")
        }
        let rowBytes = width * channels
        var raw = [UInt8](repeating: 0, count: (1 + rowBytes) * height)
        for row in 0..<height {
            let start = row * (1 + rowBytes)
            raw[start] = 2
            for index in 0..<rowBytes {
                let above = row == 0 ? 0 : pixels[(row - 1) * rowBytes + index]
                raw[start + 1 + index] = pixels[row * rowBytes + index] &- above
            }
        }
        return try assemble(raw, width: width, height: height, colourType: channels == 1 ? 0 : 2)
    }

    /// The PNG of filtered scanlines: signature, header, the compressed data and the end chunk.
    private static func assemble(_ raw: [UInt8], width: Int, height: Int, colourType: UInt8) throws -> Data {
        let compressed = try deflate(raw)
        var png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var header = Data()
        header.appendBigEndian(UInt32(width))
        header.appendBigEndian(UInt32(height))
        header.append(contentsOf: [8, colourType, 0, 0, 0])  // 8 bits, grey or RGB, deflate, adaptive filtering, no interlace
        appendChunk("IHDR", header, to: &png)
        appendChunk("IDAT", compressed, to: &png)
        appendChunk("IEND", Data(), to: &png)
        return png
    }

    private static func deflate(_ input: [UInt8]) throws -> Data {
        var stream = z_stream()
        guard deflateInit2_(&stream, 6, Z_DEFLATED, 15, 8, Z_RLE, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ChartError("cannot start PNG compression")
        }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))))
        var input = input
        let status = input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target -> Int32 in
                stream.next_in = source.baseAddress
                stream.avail_in = uInt(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = uInt(target.count)
                return CZlib.deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { throw ChartError("PNG compression failed (zlib status \(status))") }
        return Data(output.prefix(Int(stream.total_out)))
    }

    private static func appendChunk(_ type: String, _ body: Data, to png: inout Data) {
        png.appendBigEndian(UInt32(body.count))
        var typed = Data(type.utf8)
        typed.append(body)
        png.append(typed)
        let checksum = typed.withUnsafeBytes { bytes in
            crc32(0, bytes.bindMemory(to: Bytef.self).baseAddress, uInt(bytes.count))
        }
        png.appendBigEndian(UInt32(checksum))
    }
}

/// One image's 8-bit pixels (grey, or RGB interleaved per pixel), row-major, as PNG bytes: grey
/// images stay grey. Pixels only, no chart around them; the same pixels give the same bytes.
public func encodePNG(pixels: [UInt8], width: Int, height: Int, channels: Int) throws -> Data {
    try PNGEncoder.encode(pixels: pixels, width: width, height: height, channels: channels)
}

extension Data {
    mutating func appendBigEndian(_ value: UInt32) {
        append(contentsOf: [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)])
    }
}
