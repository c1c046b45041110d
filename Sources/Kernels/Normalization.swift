import CMicroKernels

// Batch normalization kernels over an [N, C, P] view (P = 1 for dense activations): per-channel
// statistics in one pass each, statistics accumulated in Double. The loops over the elements run
// in batch_norm.c on the portable kernels' instruction set (the same bits on each): every plane's
// sum one chain of float additions in increasing p, every batch sum one chain of double additions
// in increasing n; the per-channel arithmetic between them is here.

/// Per-channel batch statistics and the normalised output of a training step.
public struct BatchNormStatistics {
    /// Batch mean and biased batch variance, shape [C].
    public let mean: Tensor, variance: Tensor
    /// 1 / √(variance + ε), shape [C].
    public let inverseDeviation: Tensor
}

@inline(__always)
func channelView(_ shape: [Int]) -> (batch: Int, channels: Int, plane: Int) {
    let batch = shape[0], channels = shape[1]
    return (batch, channels, shape.dropFirst(2).reduce(1, *))
}

/// Runs `body(channels)` on disjoint blocks of 0..<channels (`forEachSlice` over groups of 16
/// channels, whole cache lines of a dense row), one per thread when each gets at least
/// `channelBlockElements` elements. Every channel's numbers are computed by one thread alone,
/// in the same order, so they do not depend on the cut.
@inline(__always)
func forEachChannelBlock(_ channels: Int, elementsPerChannel: Int, _ body: (Range<Int>) -> Void) {
    let groupElements = max(16 * elementsPerChannel, 1)
    forEachSlice((channels + 15) / 16, minimumSlice: (channelBlockElements + groupElements - 1) / groupElements) { groups in
        body(groups.lowerBound * 16..<min(groups.upperBound * 16, channels))
    }
}

/// The fewest elements a thread's block of a batch normalisation gets (every pass over it then
/// takes microseconds, more than the hand-off).
let channelBlockElements = 1 << 14

extension Tensor {
    /// (x − mean) / √(variance + ε) · γ + β with the batch's statistics per channel.
    /// A tensor in 16-channel blocks (`ChannelBlocks`) gives one in blocks.
    public func batchNormalized(scale gamma: Tensor, shift beta: Tensor, epsilon: Float) -> (Tensor, BatchNormStatistics) {
        let (batch, channels, plane) = channelView(shape)
        let count = Double(batch * plane), isa = portableInstructionSet
        let mean = Tensor(uninitializedShape: [channels]), variance = Tensor(uninitializedShape: [channels])
        let inBlocks = channelBlocks != nil
        let inverse = Tensor(uninitializedShape: [channels]), out = Tensor(uninitializedShape: shape, inChannelBlocks: inBlocks)
        let (x, o) = (elementsAsTheyLie, out.elementsAsTheyLie)
        let (sumsLoop, affineLoop) = inBlocks ? (batch_norm_sums_blocks, batch_norm_affine_blocks) : (batch_norm_sums, batch_norm_affine)
        let (mp, vp, ip) = (mean.storage.pointer, variance.storage.pointer, inverse.storage.pointer)
        let (gp, bp) = (gamma.storage.pointer, beta.storage.pointer)
        // Per-channel scratch, each block writing its own channels: sums, then y = x·a + b.
        let sums = UnsafeMutablePointer<Double>.allocate(capacity: channels)
        let ab = UnsafeMutablePointer<Float>.allocate(capacity: 2 * channels)
        defer { sums.deallocate(); ab.deallocate() }
        let (a, b) = (ab, ab + channels)
        forEachChannelBlock(channels, elementsPerChannel: batch * plane) { block in
            let (c0, c1) = (block.lowerBound, block.upperBound)
            sumsLoop(isa, x, batch, channels, plane, c0, c1, nil, sums)
            for c in block { mp[c] = Float(sums[c] / count) }
            sumsLoop(isa, x, batch, channels, plane, c0, c1, mp, sums)
            for c in block {
                vp[c] = Float(sums[c] / count)
                ip[c] = 1 / (vp[c] + epsilon).squareRoot()
                // a = γ/σ, b = β − mean·a.
                a[c] = gp[c] * ip[c]
                b[c] = bp[c] - mp[c] * a[c]
            }
            affineLoop(isa, x, o, batch, channels, plane, c0, c1, a, b)
        }
        withExtendedLifetime((self, gamma, beta)) {}
        return (out, BatchNormStatistics(mean: mean, variance: variance, inverseDeviation: inverse))
    }

    /// Gradients (input, γ, β) of batch normalization with batch statistics, for upstream `self`:
    /// dβ = Σg, dγ = Σg·x̂, dx = γ/σ · (g − dβ/M − x̂·dγ/M) with M elements per channel.
    /// In 16-channel blocks when this tensor or `input` is.
    public func batchNormGradients(input: Tensor, scale gamma: Tensor, statistics: BatchNormStatistics) -> (Tensor, Tensor, Tensor) {
        let (batch, channels, plane) = channelView(shape)
        let count = Float(batch * plane), isa = portableInstructionSet
        let (upstream, input) = inOneLayout(with: input)
        let inBlocks = upstream.channelBlocks != nil
        let dx = Tensor(uninitializedShape: shape, inChannelBlocks: inBlocks)
        let scaleGradient = Tensor(uninitializedShape: [channels]), shiftGradient = Tensor(uninitializedShape: [channels])
        let (g, x, o) = (upstream.elementsAsTheyLie, input.elementsAsTheyLie, dx.elementsAsTheyLie)
        let (sumsLoop, scaleSumsLoop, backwardLoop) = inBlocks
            ? (batch_norm_sums_blocks, batch_norm_scale_sums_blocks, batch_norm_backward_blocks)
            : (batch_norm_sums, batch_norm_scale_sums, batch_norm_backward)
        let (mean, inverse, gp) = (statistics.mean.storage.pointer, statistics.inverseDeviation.storage.pointer, gamma.storage.pointer)
        let (dgamma, dbeta) = (scaleGradient.storage.pointer, shiftGradient.storage.pointer)
        // Per-channel scratch, each block writing its own channels.
        let sums = UnsafeMutablePointer<Double>.allocate(capacity: 2 * channels)
        let abd = UnsafeMutablePointer<Float>.allocate(capacity: 3 * channels)
        defer { sums.deallocate(); abd.deallocate() }
        let (biasSums, scaleSums) = (sums, sums + channels)
        let (a, b, d) = (abd, abd + channels, abd + 2 * channels)
        forEachChannelBlock(channels, elementsPerChannel: batch * plane) { block in
            let (c0, c1) = (block.lowerBound, block.upperBound)
            sumsLoop(isa, g, batch, channels, plane, c0, c1, nil, biasSums)
            scaleSumsLoop(isa, g, x, batch, channels, plane, c0, c1, mean, inverse, scaleSums)
            // dx = g·a + x·b + d per channel.
            for c in block {
                let k = gp[c] * inverse[c]
                a[c] = k
                b[c] = -k * Float(scaleSums[c]) * inverse[c] / count
                d[c] = -k * Float(biasSums[c]) / count - b[c] * mean[c]
                dgamma[c] = Float(scaleSums[c])
                dbeta[c] = Float(biasSums[c])
            }
            backwardLoop(isa, g, x, o, batch, channels, plane, c0, c1, a, b, d)
        }
        withExtendedLifetime((self, upstream, input, gamma, statistics)) {}
        return (dx, scaleGradient, shiftGradient)
    }
}
