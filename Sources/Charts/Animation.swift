import CCairo
import CGIF
import Foundation

/// Renders frames to an animated GIF that loops forever, written atomically.
/// Automatic axes are shared across frames (nothing jumps); one global palette of 256 colours
/// keeps the theme colours and gray levels exact.
public func renderAnimation(_ frames: [any Chart], to path: String,
                            options: RenderOptions = RenderOptions(width: 800, height: 600),
                            frameDelay: Double = 0.25, shareAxes: Bool = true) throws {
    guard !frames.isEmpty else {
        throw ChartError("cannot write animation \(path): no frames were given; render at least one chart")
    }
    let file = try AtomicFile(destination: path)
    let charts = shareAxes ? sharingAxes(frames) : frames
    var images: [[UInt32]] = []
    var width = 0, height = 0
    for chart in charts {
        let surface = renderImage(chart, options: options)
        defer { cairo_surface_destroy(surface) }
        width = Int(cairo_image_surface_get_width(surface))
        height = Int(cairo_image_surface_get_height(surface))
        images.append(opaquePixels(of: surface, width: width, height: height))
    }
    let palette = Palette(images: images)
    do {
        try writeGIF(images: images, palette: palette, width: width, height: height,
                     delay: frameDelay, path: file.temporaryPath)
        // giflib creates its file owner-only; give it the permissions of an ordinary figure.
        chmod(file.temporaryPath, 0o644)
        try file.commit()
    } catch {
        file.discard()
        throw error
    }
}

/// RGB pixels (0x00RRGGBB) of an opaque image surface.
func opaquePixels(of surface: OpaquePointer, width: Int, height: Int) -> [UInt32] {
    cairo_surface_flush(surface)
    let stride = Int(cairo_image_surface_get_stride(surface))
    let data = cairo_image_surface_get_data(surface)!
    var pixels = [UInt32](repeating: 0, count: width * height)
    for row in 0..<height {
        let line = UnsafeRawPointer(data + row * stride).assumingMemoryBound(to: UInt32.self)
        for column in 0..<width { pixels[row * width + column] = line[column] & 0xFF_FFFF }
    }
    return pixels
}

/// A 256-colour palette chosen by popularity over all frames, with exact gray levels.
struct Palette {
    private(set) var colors: [UInt32] = []
    private var lookup: [UInt8]

    /// Colours are binned to 5 bits a channel; pure grays keep all 256 levels in bins of their own.
    static func bin(_ pixel: UInt32) -> Int {
        let red = Int(pixel >> 16 & 0xFF), green = Int(pixel >> 8 & 0xFF), blue = Int(pixel & 0xFF)
        if red == green && green == blue { return 32768 + red }
        return (red >> 3) << 10 | (green >> 3) << 5 | blue >> 3
    }

    init(images: [[UInt32]]) {
        let binCount = 32768 + 256
        var counts = [Int](repeating: 0, count: binCount)
        var sums = [(Int, Int, Int)](repeating: (0, 0, 0), count: binCount)
        for image in images {
            for pixel in image {
                let key = Palette.bin(pixel)
                counts[key] += 1
                sums[key].0 += Int(pixel >> 16 & 0xFF)
                sums[key].1 += Int(pixel >> 8 & 0xFF)
                sums[key].2 += Int(pixel & 0xFF)
            }
        }
        let chosen = counts.indices.filter { counts[$0] > 0 }
            .sorted { counts[$0] != counts[$1] ? counts[$0] > counts[$1] : $0 < $1 }.prefix(256)
        colors = chosen.map { key in
            let count = counts[key]
            let red = UInt32((sums[key].0 + count / 2) / count), green = UInt32((sums[key].1 + count / 2) / count)
            let blue = UInt32((sums[key].2 + count / 2) / count)
            return red << 16 | green << 8 | blue
        }
        if colors.isEmpty { colors = [0xFF_FFFF] }
        // Each used bin maps to the nearest palette colour, measured at the bin's mean.
        lookup = [UInt8](repeating: 0, count: binCount)
        for key in 0..<binCount where counts[key] > 0 {
            let count = counts[key]
            let mean = (sums[key].0 / count, sums[key].1 / count, sums[key].2 / count)
            var best = 0, bestDistance = Int.max
            for (index, color) in colors.enumerated() {
                let dr = Int(color >> 16 & 0xFF) - mean.0, dg = Int(color >> 8 & 0xFF) - mean.1
                let db = Int(color & 0xFF) - mean.2
                let distance = 2 * dr * dr + 4 * dg * dg + 3 * db * db
                if distance < bestDistance { best = index; bestDistance = distance }
            }
            lookup[key] = UInt8(best)
        }
    }

    func index(of pixel: UInt32) -> UInt8 { lookup[Palette.bin(pixel)] }
}

private func writeGIF(images: [[UInt32]], palette: Palette, width: Int, height: Int, delay: Double,
                      path: String) throws {
    var error: Int32 = 0
    guard let gif = EGifOpenFileName(path, false, &error) else {
        throw ChartError("cannot write animation \(path): \(gifMessage(error)); check the folder's permissions")
    }
    var closed = false
    defer { if !closed { EGifCloseFile(gif, &error) } }
    func check(_ status: Int32) throws {
        guard status == GIF_OK else {
            throw ChartError("cannot write animation \(path): \(gifMessage(gif.pointee.Error)); check the disk space")
        }
    }
    EGifSetGifVersion(gif, true)
    var entries = [GifColorType](repeating: GifColorType(Red: 0, Green: 0, Blue: 0), count: 256)
    for (index, color) in palette.colors.enumerated() {
        entries[index] = GifColorType(Red: UInt8(color >> 16 & 0xFF), Green: UInt8(color >> 8 & 0xFF), Blue: UInt8(color & 0xFF))
    }
    guard let colorMap = GifMakeMapObject(256, entries) else { throw ChartError("cannot write animation \(path): out of memory") }
    defer { GifFreeMapObject(colorMap) }
    try check(EGifPutScreenDesc(gif, Int32(width), Int32(height), 8, 0, colorMap))
    // Loop forever (the NETSCAPE2.0 application extension, repeat count 0).
    try check(EGifPutExtensionLeader(gif, APPLICATION_EXT_FUNC_CODE))
    try check(EGifPutExtensionBlock(gif, 11, "NETSCAPE2.0"))
    try check(EGifPutExtensionBlock(gif, 3, [UInt8(1), 0, 0]))
    try check(EGifPutExtensionTrailer(gif))
    var control = GraphicsControlBlock(DisposalMode: DISPOSE_DO_NOT, UserInputFlag: false,
                                       DelayTime: Int32(max(0, min(delay * 100, 65535)).rounded()),
                                       TransparentColor: NO_TRANSPARENT_COLOR)
    var extensionBytes = [UInt8](repeating: 0, count: 4)
    let extensionLength = EGifGCBToExtension(&control, &extensionBytes)
    var line = [UInt8](repeating: 0, count: width)
    for image in images {
        try check(EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, Int32(extensionLength), extensionBytes))
        try check(EGifPutImageDesc(gif, 0, 0, Int32(width), Int32(height), false, nil))
        for row in 0..<height {
            for column in 0..<width { line[column] = palette.index(of: image[row * width + column]) }
            try check(EGifPutLine(gif, &line, Int32(width)))
        }
    }
    closed = true
    guard EGifCloseFile(gif, &error) == GIF_OK else {
        throw ChartError("cannot write animation \(path): \(gifMessage(error)); check the disk space")
    }
}

private func gifMessage(_ code: Int32) -> String {
    GifErrorString(code).map { String(cString: $0) } ?? "giflib error \(code)"
}
