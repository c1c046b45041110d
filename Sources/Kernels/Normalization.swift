// Batch normalization kernels over an [N, C, P] view (P = 1 for dense activations): per-channel
// statistics in one pass each, statistics accumulated in Double.

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

/// Runs `body(channels)` on disjoint blocks of 0..<channels, one per thread when every block
/// gets at least 16 channels and the tensor is large enough to repay the hand-off. Every
/// channel's numbers are computed by one thread alone, in the same order, so they do not depend
/// on the cut.
@inline(__always)
func forEachChannelBlock(_ channels: Int, elements: Int, _ body: (Range<Int>) -> Void) {
    let parts = min(loopThreads, channels / 16, elements / channelBlockElements)
    if parts <= 1 {
        body(0..<channels)
        return
    }
    withoutActuallyEscaping(body) { body in
        let task = ChannelBlocks(body: body)
        parallelFor(parts) { part in
            task.body(channels * part / parts / 16 * 16..<(part == parts - 1 ? channels : channels * (part + 1) / parts / 16 * 16))
        }
    }
}

private struct ChannelBlocks: @unchecked Sendable {
    let body: (Range<Int>) -> Void
}

/// The fewest elements of a tensor whose batch normalisation is cut over the threads (every
/// pass over it then takes tens of microseconds).
let channelBlockElements = 1 << 15

/// Sums over n and p of `f(value, c)` per channel c of `block` (sums[c − block.lowerBound]), in
/// Double: over the plane in Float first.
@inline(__always)
func channelReduce(_ x: UnsafePointer<Float>, _ shape: [Int], _ block: Range<Int>, into sums: UnsafeMutablePointer<Double>,
                   _ f: (Float, Int) -> Double) {
    let (batch, channels, plane) = channelView(shape)
    let c0 = block.lowerBound
    for c in block { sums[c - c0] = 0 }
    for n in 0..<batch {
        let row = x + n * channels * plane
        if plane == 1 {
            for c in block { sums[c - c0] += f(row[c], c) }
        } else {
            for c in block {
                var acc: Float = 0
                let base = row + c * plane
                for p in 0..<plane { acc += Float(f(base[p], c)) }
                sums[c - c0] += Double(acc)
            }
        }
    }
}

extension Tensor {
    /// (x − mean) / √(variance + ε) · γ + β with the batch's statistics per channel.
    public func batchNormalized(scale gamma: Tensor, shift beta: Tensor, epsilon: Float) -> (Tensor, BatchNormStatistics) {
        let (batch, channels, plane) = channelView(shape)
        let count = Double(batch * plane)
        let mean = Tensor(uninitializedShape: [channels]), variance = Tensor(uninitializedShape: [channels])
        let inverse = Tensor(uninitializedShape: [channels]), out = Tensor(uninitializedShape: shape)
        let (x, o) = (storage.pointer, out.storage.pointer)
        let (mp, vp, ip) = (mean.storage.pointer, variance.storage.pointer, inverse.storage.pointer)
        let (gp, bp) = (gamma.storage.pointer, beta.storage.pointer)
        forEachChannelBlock(channels, elements: batch * channels * plane) { block in
            let c0 = block.lowerBound
            let sums = UnsafeMutablePointer<Double>.allocate(capacity: block.count)
            let (a, b) = (UnsafeMutablePointer<Float>.allocate(capacity: block.count), UnsafeMutablePointer<Float>.allocate(capacity: block.count))
            defer { sums.deallocate(); a.deallocate(); b.deallocate() }
            channelReduce(x, shape, block, into: sums) { v, _ in Double(v) }
            for c in block { mp[c] = Float(sums[c - c0] / count) }
            channelReduce(x, shape, block, into: sums) { v, c in let d = v - mp[c]; return Double(d * d) }
            for c in block {
                vp[c] = Float(sums[c - c0] / count)
                ip[c] = 1 / (vp[c] + epsilon).squareRoot()
                // y = x·a + b per channel, a = γ/σ, b = β − mean·a.
                a[c - c0] = gp[c] * ip[c]
                b[c - c0] = bp[c] - mp[c] * a[c - c0]
            }
            affineChannels(x, o, batch, channels, plane, block, a - c0, b - c0)
        }
        withExtendedLifetime((self, gamma, beta)) {}
        return (out, BatchNormStatistics(mean: mean, variance: variance, inverseDeviation: inverse))
    }

    /// Gradients (input, γ, β) of batch normalization with batch statistics, for upstream `self`:
    /// dβ = Σg, dγ = Σg·x̂, dx = γ/σ · (g − dβ/M − x̂·dγ/M) with M elements per channel.
    public func batchNormGradients(input: Tensor, scale gamma: Tensor, statistics: BatchNormStatistics) -> (Tensor, Tensor, Tensor) {
        let (batch, channels, plane) = channelView(shape)
        let count = Float(batch * plane)
        let dx = Tensor(uninitializedShape: shape)
        let scaleGradient = Tensor(uninitializedShape: [channels]), shiftGradient = Tensor(uninitializedShape: [channels])
        let (g, x, o) = (storage.pointer, input.storage.pointer, dx.storage.pointer)
        let (mean, inverse, gp) = (statistics.mean.storage.pointer, statistics.inverseDeviation.storage.pointer, gamma.storage.pointer)
        let (dgamma, dbeta) = (scaleGradient.storage.pointer, shiftGradient.storage.pointer)
        forEachChannelBlock(channels, elements: batch * channels * plane) { block in
            // Raw pointers throughout, so that the loops over channels (dense layers: plane 1)
            // vectorise; the order of every sum is the one written.
            let c0 = block.lowerBound, width = block.count
            let biasSums = UnsafeMutablePointer<Double>.allocate(capacity: width)
            let sums = UnsafeMutablePointer<Double>.allocate(capacity: width)
            let abd = UnsafeMutablePointer<Float>.allocate(capacity: 3 * width)
            defer { biasSums.deallocate(); sums.deallocate(); abd.deallocate() }
            channelReduce(g, shape, block, into: biasSums) { g, _ in Double(g) }
            for c in block { sums[c - c0] = 0 }
            for n in 0..<batch {
                if plane == 1 {  // the sum below with its one term
                    let (gn, xn) = (g + n * channels, x + n * channels)
                    for c in block { sums[c - c0] += Double((0 + gn[c] * (xn[c] - mean[c])) * inverse[c]) }
                    continue
                }
                for c in block {
                    let base = (n * channels + c) * plane
                    var acc: Float = 0
                    for p in 0..<plane { acc += g[base + p] * (x[base + p] - mean[c]) }
                    sums[c - c0] += Double(acc * inverse[c])
                }
            }
            // dx = g·a + x·b + d per channel.
            let (a, b, d) = (abd - c0, abd + width - c0, abd + 2 * width - c0)
            for c in block {
                let k = gp[c] * inverse[c]
                a[c] = k
                b[c] = -k * Float(sums[c - c0]) * inverse[c] / count
                d[c] = -k * Float(biasSums[c - c0]) / count - b[c] * mean[c]
                dgamma[c] = Float(sums[c - c0])
                dbeta[c] = Float(biasSums[c - c0])
            }
            for n in 0..<batch {
                if plane == 1 {
                    let (gn, xn, on) = (g + n * channels, x + n * channels, o + n * channels)
                    for c in block { on[c] = gn[c] * a[c] + xn[c] * b[c] + d[c] }
                    continue
                }
                for c in block {
                    let base = (n * channels + c) * plane
                    let (ac, bc, dc) = (a[c], b[c], d[c])
                    for p in 0..<plane { o[base + p] = g[base + p] * ac + x[base + p] * bc + dc }
                }
            }
        }
        withExtendedLifetime((self, input, gamma, statistics)) {}
        return (dx, scaleGradient, shiftGradient)
    }
}

/// out = x·a[c] + b[c] over an [N, C, P] view, for the channels of `block`.
@inline(__always)
func affineChannels(_ x: UnsafePointer<Float>, _ o: UnsafeMutablePointer<Float>, _ batch: Int, _ channels: Int,
                    _ plane: Int, _ block: Range<Int>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>) {
    for n in 0..<batch {
        let row = n * channels * plane
        if plane == 1 {
            for c in block { o[row + c] = x[row + c] * a[c] + b[c] }
        } else {
            for c in block {
                let base = row + c * plane, (ac, bc) = (a[c], b[c])
                for p in 0..<plane { o[base + p] = x[base + p] * ac + bc }
            }
        }
    }
}
