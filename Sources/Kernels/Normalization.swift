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

/// Sums over n and p of `f(value, c)` into sums[c] for the channels c of `block`, in Double:
/// over the plane in Float first.
@inline(__always)
func channelReduce(_ x: UnsafePointer<Float>, _ shape: [Int], _ block: Range<Int>, into sums: UnsafeMutablePointer<Double>,
                   _ f: (Float, Int) -> Double) {
    let (batch, channels, plane) = channelView(shape)
    for c in block { sums[c] = 0 }
    for n in 0..<batch {
        let row = x + n * channels * plane
        if plane == 1 {
            for c in block { sums[c] += f(row[c], c) }
        } else {
            // Four channels' sums side by side: each is a chain of additions in a fixed order,
            // each waiting for the last, so four independent chains keep the adder busy with the
            // same additions in the same order.
            var c = block.lowerBound
            while c + 4 <= block.upperBound {
                let (b0, b1, b2, b3) = (row + c * plane, row + (c + 1) * plane, row + (c + 2) * plane, row + (c + 3) * plane)
                var (a0, a1, a2, a3): (Float, Float, Float, Float) = (0, 0, 0, 0)
                for p in 0..<plane {
                    a0 += Float(f(b0[p], c))
                    a1 += Float(f(b1[p], c + 1))
                    a2 += Float(f(b2[p], c + 2))
                    a3 += Float(f(b3[p], c + 3))
                }
                sums[c] += Double(a0)
                sums[c + 1] += Double(a1)
                sums[c + 2] += Double(a2)
                sums[c + 3] += Double(a3)
                c += 4
            }
            for c in c..<block.upperBound {
                var acc: Float = 0
                let base = row + c * plane
                for p in 0..<plane { acc += Float(f(base[p], c)) }
                sums[c] += Double(acc)
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
        // Per-channel scratch, each block writing its own channels: sums, then y = x·a + b.
        let sums = UnsafeMutablePointer<Double>.allocate(capacity: channels)
        let ab = UnsafeMutablePointer<Float>.allocate(capacity: 2 * channels)
        defer { sums.deallocate(); ab.deallocate() }
        let (a, b) = (ab, ab + channels)
        forEachChannelBlock(channels, elementsPerChannel: batch * plane) { block in
            channelReduce(x, shape, block, into: sums) { v, _ in Double(v) }
            for c in block { mp[c] = Float(sums[c] / count) }
            channelReduce(x, shape, block, into: sums) { v, c in let d = v - mp[c]; return Double(d * d) }
            for c in block {
                vp[c] = Float(sums[c] / count)
                ip[c] = 1 / (vp[c] + epsilon).squareRoot()
                // a = γ/σ, b = β − mean·a.
                a[c] = gp[c] * ip[c]
                b[c] = bp[c] - mp[c] * a[c]
            }
            affineChannels(x, o, batch, channels, plane, block, a, b)
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
        // Raw pointers throughout, so that the loops over channels (dense layers: plane 1)
        // vectorise; the order of every sum is the one written. Per-channel scratch, each block
        // writing its own channels.
        let sums = UnsafeMutablePointer<Double>.allocate(capacity: 2 * channels)
        let abd = UnsafeMutablePointer<Float>.allocate(capacity: 3 * channels)
        defer { sums.deallocate(); abd.deallocate() }
        let (biasSums, scaleSums) = (sums, sums + channels)
        let (a, b, d) = (abd, abd + channels, abd + 2 * channels)
        forEachChannelBlock(channels, elementsPerChannel: batch * plane) { block in
            channelReduce(g, shape, block, into: biasSums) { g, _ in Double(g) }
            for c in block { scaleSums[c] = 0 }
            for n in 0..<batch {
                if plane == 1 {  // the sum below with its one term
                    let (gn, xn) = (g + n * channels, x + n * channels)
                    for c in block { scaleSums[c] += Double((0 + gn[c] * (xn[c] - mean[c])) * inverse[c]) }
                    continue
                }
                // Four channels' chains side by side, as in `channelReduce`.
                var c = block.lowerBound
                while c + 4 <= block.upperBound {
                    let base = (n * channels + c) * plane
                    let (g0, g1, g2, g3) = (g + base, g + base + plane, g + base + 2 * plane, g + base + 3 * plane)
                    let (x0, x1, x2, x3) = (x + base, x + base + plane, x + base + 2 * plane, x + base + 3 * plane)
                    let (m0, m1, m2, m3) = (mean[c], mean[c + 1], mean[c + 2], mean[c + 3])
                    var (a0, a1, a2, a3): (Float, Float, Float, Float) = (0, 0, 0, 0)
                    for p in 0..<plane {
                        a0 += g0[p] * (x0[p] - m0)
                        a1 += g1[p] * (x1[p] - m1)
                        a2 += g2[p] * (x2[p] - m2)
                        a3 += g3[p] * (x3[p] - m3)
                    }
                    scaleSums[c] += Double(a0 * inverse[c])
                    scaleSums[c + 1] += Double(a1 * inverse[c + 1])
                    scaleSums[c + 2] += Double(a2 * inverse[c + 2])
                    scaleSums[c + 3] += Double(a3 * inverse[c + 3])
                    c += 4
                }
                for c in c..<block.upperBound {
                    let base = (n * channels + c) * plane
                    var acc: Float = 0
                    for p in 0..<plane { acc += g[base + p] * (x[base + p] - mean[c]) }
                    scaleSums[c] += Double(acc * inverse[c])
                }
            }
            // dx = g·a + x·b + d per channel.
            for c in block {
                let k = gp[c] * inverse[c]
                a[c] = k
                b[c] = -k * Float(scaleSums[c]) * inverse[c] / count
                d[c] = -k * Float(biasSums[c]) / count - b[c] * mean[c]
                dgamma[c] = Float(scaleSums[c])
                dbeta[c] = Float(biasSums[c])
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
