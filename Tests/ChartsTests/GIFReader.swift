import CGIF
import Foundation
@testable import Charts

/// An animated GIF decoded through giflib: RGB frames, delays and whether it loops.
struct DecodedGIF {
    var width = 0
    var height = 0
    var frames: [[UInt32]] = []
    var delays: [Int] = []
    var loopsForever = false

    init(path: String) throws {
        var error: Int32 = 0
        guard let gif = DGifOpenFileName(path, &error) else { throw ChartError("cannot open GIF \(path)") }
        defer { DGifCloseFile(gif, &error) }
        guard DGifSlurp(gif) == GIF_OK, let colorMap = gif.pointee.SColorMap else { throw ChartError("cannot decode GIF \(path)") }
        width = Int(gif.pointee.SWidth)
        height = Int(gif.pointee.SHeight)
        let colors = (0..<Int(colorMap.pointee.ColorCount)).map { index -> UInt32 in
            let entry = colorMap.pointee.Colors[index]
            return UInt32(entry.Red) << 16 | UInt32(entry.Green) << 8 | UInt32(entry.Blue)
        }
        for index in 0..<Int(gif.pointee.ImageCount) {
            let image = gif.pointee.SavedImages[index]
            let raster = image.RasterBits!
            frames.append((0..<(width * height)).map { colors[Int(raster[$0])] })
            var control = GraphicsControlBlock()
            if DGifSavedExtensionToGCB(gif, Int32(index), &control) == GIF_OK { delays.append(Int(control.DelayTime)) }
            for block in 0..<Int(image.ExtensionBlockCount) {
                let extensionBlock = image.ExtensionBlocks[block]
                if extensionBlock.Function == APPLICATION_EXT_FUNC_CODE, extensionBlock.ByteCount == 11,
                   String(decoding: UnsafeBufferPointer(start: extensionBlock.Bytes, count: 11), as: UTF8.self) == "NETSCAPE2.0" {
                    loopsForever = block + 1 < Int(image.ExtensionBlockCount)
                        && image.ExtensionBlocks[block + 1].Bytes[1] == 0 && image.ExtensionBlocks[block + 1].Bytes[2] == 0
                }
            }
        }
    }

    func rgb(frame: Int, _ x: Int, _ y: Int) -> (Int, Int, Int) {
        let value = frames[frame][y * width + x]
        return (Int(value >> 16 & 0xFF), Int(value >> 8 & 0xFF), Int(value & 0xFF))
    }
}
