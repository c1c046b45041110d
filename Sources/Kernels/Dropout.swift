import CMicroKernels

// Dropout's mask, drawn where it is used (vector_math.c): the forward pass and its pullback each
// compute element i's factor from 32-bit draw i of the layer's SplitMix64 stream, so no mask is
// stored, and the loops over draws vectorise.

/// The mask of one dropout call: element i is kept, scaled by 1 / (1 − rate), when 32-bit draw
/// i of `stream` (two draws per 64 random bits, the low half first) is below (1 − rate)·2³², and
/// dropped (0) otherwise. `stream` is the layer's stream where the call starts; the call takes
/// `draws` 64-bit draws from it.
public struct DropoutMask {
    public let stream: RandomSource
    public let shape: [Int]
    let threshold: UInt64
    let scale: Float

    public init(rate: Float, shape: [Int], stream: RandomSource) {
        precondition(rate >= 0 && rate < 1, "dropout rate \(rate) outside [0, 1)")
        let keep = 1 - rate
        (self.stream, self.shape, scale) = (stream, shape, 1 / keep)
        threshold = UInt64(min(Double(keep) * 0x1p32, 0x1p32))
    }

    /// The 64-bit draws the mask takes from its stream.
    public var draws: Int { (shape.reduce(1, *) + 1) / 2 }

    /// The factors as a tensor of `shape` (for a pullback that is itself recorded).
    public var tensor: Tensor {
        let mask = Tensor(uninitializedShape: shape)
        let m = SharedPointer(base: mask.storage.pointer)
        forEachElementSlice { isa, elements, state, threshold, scale in
            dropout_mask(isa, m.base, elements.lowerBound, elements.upperBound, state, threshold, scale)
        }
        return mask
    }

    /// Runs `body(isa, elements, state, threshold, scale)` on slices of the mask's elements (each
    /// starting even) side by side on the lab's threads: the same factors on any thread count.
    func forEachElementSlice(_ body: (fixed_order_isa, Range<Int>, UInt64, UInt64, Float) -> Void) {
        let count = shape.reduce(1, *), isa = portableInstructionSet, state = stream.state
        forEachSlice(draws, minimumSlice: dropoutSlice) { pairs in
            body(isa, 2 * pairs.lowerBound..<min(2 * pairs.upperBound, count), state, threshold, scale)
        }
    }
}

extension DropoutMask {
    /// `forEachElementSlice` for a tensor in 16-channel blocks: slices of its blocks.
    func forEachBlockSlice(_ blocks: ChannelBlocks, _ body: (fixed_order_isa, Range<Int>, UInt64, UInt64, Float) -> Void) {
        let isa = portableInstructionSet, state = stream.state
        forEachSlice(blocks.count, minimumSlice: max(1, 2 * dropoutSlice / (16 * blocks.plane))) { range in
            body(isa, range, state, threshold, scale)
        }
    }
}

/// The fewest random pairs a thread's slice of a dropout pass gets: a few microseconds of work.
let dropoutSlice = 1 << 13

extension Tensor {
    /// (x > 0 ? x : `negativeSlope`·x) · `mask`'s factor for every element x: dropout of a leaky
    /// rectifier (`negativeSlope` 1: plain dropout, x·factor).
    /// A tensor in 16-channel blocks (`ChannelBlocks`) gives one in blocks.
    public func rectifiedDropout(_ mask: DropoutMask, negativeSlope: Float) -> Tensor {
        precondition(shape == mask.shape, "shapes \(shape) and \(mask.shape) differ")
        if let blocks = channelBlocks {
            let out = Tensor(uninitializedChannelBlocksOf: shape)
            let (x, y) = (SharedPointer(base: blocks.pointer), SharedPointer(base: out.channelBlocks!.pointer))
            mask.forEachBlockSlice(blocks) { isa, range, state, threshold, scale in
                dropout_forward_blocks(isa, x.base, y.base, negativeSlope, blocks.plane, range.lowerBound, range.upperBound,
                                       state, threshold, scale)
            }
            return out
        }
        let out = Tensor(uninitializedShape: shape)
        let y = SharedPointer(base: out.storage.pointer), x = storage.pointer
        mask.forEachElementSlice { isa, elements, state, threshold, scale in
            dropout_forward(isa, x, y.base, negativeSlope, elements.lowerBound, elements.upperBound, state, threshold, scale)
        }
        return out
    }

    /// This tensor times `mask`'s factors, scaled by `negativeSlope` where `sign` is not
    /// positive, in one pass: the pullback of `rectifiedDropout` (`sign` its input).
    /// In 16-channel blocks when this tensor or `sign` is.
    public func scaledBySign(of sign: Tensor, negativeSlope: Float, times mask: DropoutMask) -> Tensor {
        precondition(shape == sign.shape && shape == mask.shape, "shapes \(shape), \(sign.shape) and \(mask.shape) differ")
        let (upstream, sign) = inOneLayout(with: sign)
        if let blocks = upstream.channelBlocks, let signBlocks = sign.channelBlocks {
            let out = Tensor(uninitializedChannelBlocksOf: shape)
            let (g, x, o) = (SharedPointer(base: blocks.pointer), SharedPointer(base: signBlocks.pointer),
                             SharedPointer(base: out.channelBlocks!.pointer))
            mask.forEachBlockSlice(blocks) { isa, range, state, threshold, scale in
                dropout_backward_blocks(isa, g.base, x.base, o.base, negativeSlope, blocks.plane, range.lowerBound,
                                        range.upperBound, state, threshold, scale)
            }
            return withExtendedLifetime((upstream, sign)) { out }
        }
        let out = Tensor(uninitializedShape: shape)
        let o = SharedPointer(base: out.storage.pointer), g = storage.pointer, x = sign.storage.pointer
        mask.forEachElementSlice { isa, elements, state, threshold, scale in
            dropout_backward(isa, g, x, o.base, negativeSlope, elements.lowerBound, elements.upperBound, state, threshold, scale)
        }
        return out
    }
}
