import CPNG
import Foundation

/// A folder of PNG images (grey or colour, any size), read with libpng's simplified API. Each
/// image is cropped to its centred square, then scaled to `size`×`size` by averaging the source
/// pixels each target pixel covers (area resampling). Transparent pixels are composited on black.
enum PNGFolder {
    static func images(_ folder: String, size: Int) throws -> ImageSet {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else {
            throw DataError("\(folder): no such folder (give a folder of .png images)")
        }
        let files = names.filter { $0.lowercased().hasSuffix(".png") }.sorted()
        guard !files.isEmpty else { throw DataError("\(folder): no .png images in this folder") }
        var channels = 0
        var pixels: [UInt8] = []
        pixels.reserveCapacity(files.count * size * size * 3)
        for file in files {
            let path = (folder as NSString).appendingPathComponent(file)
            let (image, width, height, imageChannels) = try read(path)
            if channels == 0 { channels = imageChannels }
            guard imageChannels == channels else {
                throw DataError("\(path): \(imageChannels == 3 ? "colour" : "grey") among \(channels == 3 ? "colour" : "grey") images; convert the folder to one kind")
            }
            pixels += resampled(image, width: width, height: height, channels: channels, size: size)
        }
        return pixels.withUnsafeBufferPointer {
            ImageSet.fromBytes($0, count: files.count, channels: channels, height: size, width: size, labels: nil, source: folder)
        }
    }

    /// The tiles of a PNG grid, row by row, each scaled to size×size.
    static func grid(_ path: String, rows: Int, columns: Int, padding: Int, size: Int) throws -> ImageSet {
        guard rows > 0, columns > 0, padding >= 0 else { throw DataError("\(path): a grid needs at least one row and one column") }
        let (pixels, width, height, channels) = try read(path)
        let (tileWidth, tileHeight) = ((width - padding * (columns + 1)) / columns, (height - padding * (rows + 1)) / rows)
        guard tileWidth > 0, tileHeight > 0, tileWidth * columns + padding * (columns + 1) == width,
              tileHeight * rows + padding * (rows + 1) == height else {
            throw DataError("\(path): \(width)×\(height) pixels do not divide into \(rows)×\(columns) tiles with \(padding) pixels of padding; "
                + "check --grid and --padding")
        }
        var out: [UInt8] = []
        out.reserveCapacity(rows * columns * size * size * channels)
        for row in 0..<rows {
            for column in 0..<columns {
                let (left, top) = (padding + column * (tileWidth + padding), padding + row * (tileHeight + padding))
                var tile = [UInt8](repeating: 0, count: tileWidth * tileHeight * channels)
                for y in 0..<tileHeight {
                    let from = ((top + y) * width + left) * channels
                    tile.replaceSubrange(y * tileWidth * channels..<(y + 1) * tileWidth * channels, with: pixels[from..<from + tileWidth * channels])
                }
                out += resampled(tile, width: tileWidth, height: tileHeight, channels: channels, size: size)
            }
        }
        return out.withUnsafeBufferPointer {
            ImageSet.fromBytes($0, count: rows * columns, channels: channels, height: size, width: size, labels: nil, source: path)
        }
    }

    /// One PNG's 8-bit pixels (grey, or RGB interleaved), its width, height and channel count.
    static func read(_ path: String) throws -> ([UInt8], Int, Int, Int) {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        guard png_image_begin_read_from_file(&image, path) != 0 else {
            throw DataError("\(path): not a readable PNG (\(message(of: &image)))")
        }
        let colour = image.format & UInt32(PNG_FORMAT_FLAG_COLOR) != 0
        image.format = colour ? UInt32(PNG_FORMAT_FLAG_COLOR) : 0  // 8-bit RGB or grey, no alpha
        let channels = colour ? 3 : 1
        let (width, height) = (Int(image.width), Int(image.height))
        guard width > 0, height > 0, width * height <= 1 << 26 else {
            png_image_free(&image)
            throw DataError("\(path): a PNG of \(width)×\(height) pixels is not an image the lab can use")
        }
        var buffer = [UInt8](repeating: 0, count: width * height * channels)
        let finished = buffer.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
        guard finished != 0 else { throw DataError("\(path): the PNG is damaged (\(message(of: &image)))") }
        return (buffer, width, height, channels)
    }

    private static func message(of image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    /// The centred square of an image, scaled to size×size by area averaging.
    static func resampled(_ pixels: [UInt8], width: Int, height: Int, channels: Int, size: Int) -> [UInt8] {
        let side = min(width, height)
        let (left, top) = ((width - side) / 2, (height - side) / 2)
        var out = [UInt8](repeating: 0, count: size * size * channels)
        let scale = Double(side) / Double(size)
        for y in 0..<size {
            let y0 = Double(y) * scale, y1 = Double(y + 1) * scale
            for x in 0..<size {
                let x0 = Double(x) * scale, x1 = Double(x + 1) * scale
                var sums = [Double](repeating: 0, count: channels)
                var area = 0.0
                for sy in Int(y0)..<min(side, Int(y1.rounded(.up))) {
                    let wy = min(y1, Double(sy + 1)) - max(y0, Double(sy))
                    for sx in Int(x0)..<min(side, Int(x1.rounded(.up))) {
                        let weight = wy * (min(x1, Double(sx + 1)) - max(x0, Double(sx)))
                        let base = ((top + sy) * width + left + sx) * channels
                        for c in 0..<channels { sums[c] += weight * Double(pixels[base + c]) }
                        area += weight
                    }
                }
                for c in 0..<channels { out[(y * size + x) * channels + c] = UInt8(min(255, (sums[c] / max(area, 1e-12)).rounded())) }
            }
        }
        return out
    }
}
