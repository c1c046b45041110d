import CMicroKernels

/// The elements of a tensor [N, C, …] (C a multiple of 16) in oneDNN's 16-channel blocked layout
/// (aBcd16b for images): block b = n·C/16 + j holds channels 16j..<16j+16 of sample n, element
/// (c, p) of the block at p·16 + c, where the plain layout holds the same block's elements in the
/// same place as [16][P]. oneDNN's convolutions read and write this layout without reordering,
/// so a tensor that passes from one convolution to the next stays in it, through dropout,
/// LeakyReLU and batch normalisation, which run on blocks too.
public struct ChannelBlocks: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let shape: [Int]

    /// Whether a tensor of `shape` has such blocks: rank 3 or more, channels a multiple of 16.
    public static func fits(_ shape: [Int]) -> Bool { shape.count >= 3 && shape[1] % 16 == 0 && shape[1] > 0 }

    /// Elements of one channel of one sample.
    public var plane: Int { shape.dropFirst(2).reduce(1, *) }
    /// Blocks of 16 channels over the batch.
    public var count: Int { shape[0] * shape[1] / 16 }

    /// Runs `body(blocks)` on slices of the blocks side by side on the lab's threads (each slice
    /// at least `blockSlice` elements of work).
    func forEachSlice(_ body: (Range<Int>) -> Void) {
        Kernels.forEachSlice(count, minimumSlice: max(1, blockSlice / (16 * plane)), body)
    }

    /// The plain elements into `plain`.
    func copy(into plain: UnsafeMutablePointer<Float>) {
        let (source, target, plane) = (SharedPointer(base: pointer), SharedPointer(base: plain), plane)
        forEachSlice { blocks in
            channel_blocks_to_plain(portableInstructionSet, source.base, target.base, plane, blocks.lowerBound, blocks.upperBound)
        }
    }
}

/// The fewest elements a thread's slice of a pass over channel blocks gets.
let blockSlice = 1 << 15

extension Tensor {
    /// An uninitialised tensor of `shape`, in 16-channel blocks when `inChannelBlocks`.
    public init(uninitializedShape shape: [Int], inChannelBlocks: Bool) {
        self = inChannelBlocks ? Tensor(uninitializedChannelBlocksOf: shape) : Tensor(uninitializedShape: shape)
    }

    /// The elements as the storage holds them: its channel blocks, else its plain elements.
    public var elementsAsTheyLie: UnsafeMutablePointer<Float> { channelBlocks?.pointer ?? storage.pointer }

    /// This tensor and `other` (of the same shape) in one layout: both in channel blocks when
    /// either is (an elementwise op of the two then runs on blocks, as the convolutions around it
    /// read them), else both plain.
    public func inOneLayout(with other: Tensor) -> (Tensor, Tensor) {
        guard shape == other.shape, channelBlocks != nil || other.channelBlocks != nil else { return (self, other) }
        return (inChannelBlocks(), other.inChannelBlocks())
    }

    /// This tensor in the 16-channel blocked layout (a copy made from the plain elements).
    public func inChannelBlocks() -> Tensor {
        if channelBlocks != nil { return self }
        let result = Tensor(uninitializedChannelBlocksOf: shape), blocks = result.channelBlocks!
        let (source, target, plane) = (SharedPointer(base: storage.pointer), SharedPointer(base: blocks.pointer), blocks.plane)
        blocks.forEachSlice { range in
            channel_blocks_from_plain(portableInstructionSet, source.base, target.base, plane, range.lowerBound, range.upperBound)
        }
        return result
    }
}
