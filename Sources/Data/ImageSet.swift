import Kernels

/// A set of images, NCHW, pixels scaled from 0…255 to [-1, 1], with a class label per image
/// where the source has them.
public struct ImageSet {
    /// [count, channels, height, width], every value in [-1, 1].
    public let images: Tensor
    /// One label per image (0…9 for the digit sets), or nil.
    public let labels: [Int]?
    /// Where the images came from, for messages and summaries.
    public let source: String

    public init(images: Tensor, labels: [Int]?, source: String) {
        precondition(images.rank == 4, "images are [count, channels, height, width], got \(images.shape)")
        precondition(labels.map { $0.count == images.shape[0] } ?? true, "one label per image")
        self.images = images
        self.labels = labels
        self.source = source
    }

    public var count: Int { images.shape[0] }
    public var channels: Int { images.shape[1] }
    public var height: Int { images.shape[2] }
    public var width: Int { images.shape[3] }

    /// Images of 8-bit pixels (row-major, channels interleaved per pixel as files store them),
    /// scaled to [-1, 1]: p / 127.5 − 1.
    static func fromBytes(_ pixels: UnsafeBufferPointer<UInt8>, count: Int, channels: Int, height: Int, width: Int,
                          labels: [Int]?, source: String) -> ImageSet {
        var images = Tensor(uninitializedShape: [count, channels, height, width])
        let plane = height * width
        images.withUnsafeMutableBufferPointer { out in
            for image in 0..<count {
                let base = image * channels * plane
                for pixel in 0..<plane {
                    for channel in 0..<channels {
                        out[base + channel * plane + pixel] = Float(pixels[base + pixel * channels + channel]) / 127.5 - 1
                    }
                }
            }
        }
        return ImageSet(images: images, labels: labels, source: source)
    }

    /// The images as 8-bit pixels, laid out as `fromBytes` reads them (row-major, channels
    /// interleaved per pixel): p = round((v + 1) · 127.5), clamped to 0…255 (not-a-number: 0), so
    /// reading the bytes back gives every value to within half a step and bytes → values → bytes
    /// is exact.
    public func pixelBytes() -> [UInt8] {
        let plane = height * width
        var bytes = [UInt8](repeating: 0, count: images.count)
        images.withUnsafeBufferPointer { values in
            for image in 0..<count {
                let base = image * channels * plane
                for pixel in 0..<plane {
                    for channel in 0..<channels {
                        let value = values[base + channel * plane + pixel]
                        guard value.isFinite else { continue }
                        bytes[base + pixel * channels + channel] = UInt8(max(0, min(255, ((value + 1) * 127.5).rounded())))
                    }
                }
            }
        }
        return bytes
    }

    /// The images with these indices, in this order (with their labels).
    public func subset(_ indices: [Int]) -> ImageSet {
        let size = channels * height * width
        var picked = Tensor(uninitializedShape: [indices.count, channels, height, width])
        picked.withUnsafeMutableBufferPointer { out in
            images.withUnsafeBufferPointer { all in
                for (row, index) in indices.enumerated() {
                    for i in 0..<size { out[row * size + i] = all[index * size + i] }
                }
            }
        }
        return ImageSet(images: picked, labels: labels.map { labels in indices.map { labels[$0] } }, source: source)
    }
}
