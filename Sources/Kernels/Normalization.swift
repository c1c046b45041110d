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

/// Sums over n and p of `f(value, c)` per channel, in Double.
@inline(__always)
func channelReduce(_ x: UnsafePointer<Float>, _ shape: [Int], _ f: (Float, Int) -> Double) -> [Double] {
    let (batch, channels, plane) = channelView(shape)
    var sums = [Double](repeating: 0, count: channels)
    sums.withUnsafeMutableBufferPointer { s in
        for n in 0..<batch {
            let row = x + n * channels * plane
            if plane == 1 {
                for c in 0..<channels { s[c] += f(row[c], c) }
            } else {
                for c in 0..<channels {
                    var acc: Float = 0
                    let base = row + c * plane
                    for p in 0..<plane { acc += Float(f(base[p], c)) }
                    s[c] += Double(acc)
                }
            }
        }
    }
    return sums
}

extension Tensor {
    /// (x − mean) / √(variance + ε) · γ + β with the batch's statistics per channel.
    public func batchNormalized(scale gamma: Tensor, shift beta: Tensor, epsilon: Float) -> (Tensor, BatchNormStatistics) {
        let (batch, channels, plane) = channelView(shape)
        let count = Double(batch * plane)
        let sums = channelReduce(storage.pointer, shape) { v, _ in Double(v) }
        let mean = sums.map { Float($0 / count) }
        let squares = channelReduce(storage.pointer, shape) { v, c in let d = v - mean[c]; return Double(d * d) }
        let variance = squares.map { Float($0 / count) }
        let inverse = variance.map { 1 / ($0 + epsilon).squareRoot() }
        // y = x·a + b per channel, a = γ/σ, b = β − mean·a.
        let a = (0..<channels).map { gamma[$0] * inverse[$0] }
        let b = (0..<channels).map { beta[$0] - mean[$0] * a[$0] }
        var out = Tensor(uninitializedShape: shape)
        out.withUnsafeMutableBufferPointer { o in
            withUnsafeBufferPointer { x in
                affineChannels(x.baseAddress!, o.baseAddress!, batch, channels, plane, a, b)
            }
        }
        return (out, BatchNormStatistics(mean: Tensor(shape: [channels], scalars: mean),
                                         variance: Tensor(shape: [channels], scalars: variance),
                                         inverseDeviation: Tensor(shape: [channels], scalars: inverse)))
    }

    /// Gradients (input, γ, β) of batch normalization with batch statistics, for upstream `self`:
    /// dβ = Σg, dγ = Σg·x̂, dx = γ/σ · (g − dβ/M − x̂·dγ/M) with M elements per channel.
    public func batchNormGradients(input: Tensor, scale gamma: Tensor, statistics: BatchNormStatistics) -> (Tensor, Tensor, Tensor) {
        let (batch, channels, plane) = channelView(shape)
        let count = Float(batch * plane)
        let mean = statistics.mean.scalars, inverse = statistics.inverseDeviation.scalars
        let x = input.storage.pointer
        let biasSums = channelReduce(storage.pointer, shape) { g, _ in Double(g) }
        // Raw pointers throughout, so that the loops over channels (dense layers: plane 1)
        // vectorise; the order of every sum is the one written.
        var scaleSums = [Double](repeating: 0, count: channels)
        var a = [Float](repeating: 0, count: channels), b = a, d = a
        let dx = Tensor(uninitializedShape: shape)
        let g = storage.pointer, o = dx.storage.pointer
        mean.withUnsafeBufferPointer { mean in
            inverse.withUnsafeBufferPointer { inverse in
                let (mean, inverse) = (mean.baseAddress!, inverse.baseAddress!)
                scaleSums.withUnsafeMutableBufferPointer { sums in
                    let sums = sums.baseAddress!
                    for n in 0..<batch {
                        if plane == 1 {  // the sum below with its one term
                            let (gn, xn) = (g + n * channels, x + n * channels)
                            for c in 0..<channels { sums[c] += Double((0 + gn[c] * (xn[c] - mean[c])) * inverse[c]) }
                            continue
                        }
                        for c in 0..<channels {
                            let base = (n * channels + c) * plane
                            var acc: Float = 0
                            for p in 0..<plane { acc += g[base + p] * (x[base + p] - mean[c]) }
                            sums[c] += Double(acc * inverse[c])
                        }
                    }
                }
                // dx = g·a + x·b + d per channel.
                for c in 0..<channels {
                    let k = gamma[c] * inverse[c]
                    a[c] = k
                    b[c] = -k * Float(scaleSums[c]) * inverse[c] / count
                    d[c] = -k * Float(biasSums[c]) / count - b[c] * mean[c]
                }
            }
        }
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                d.withUnsafeBufferPointer { d in
                    let (a, b, d) = (a.baseAddress!, b.baseAddress!, d.baseAddress!)
                    for n in 0..<batch {
                        if plane == 1 {
                            let (gn, xn, on) = (g + n * channels, x + n * channels, o + n * channels)
                            for c in 0..<channels { on[c] = gn[c] * a[c] + xn[c] * b[c] + d[c] }
                            continue
                        }
                        for c in 0..<channels {
                            let base = (n * channels + c) * plane
                            let (ac, bc, dc) = (a[c], b[c], d[c])
                            for p in 0..<plane { o[base + p] = g[base + p] * ac + x[base + p] * bc + dc }
                        }
                    }
                }
            }
        }
        return (dx, Tensor(shape: [channels], scalars: scaleSums.map(Float.init)),
                Tensor(shape: [channels], scalars: biasSums.map(Float.init)))
    }
}

/// out = x·a[c] + b[c] over an [N, C, P] view.
@inline(__always)
func affineChannels(_ x: UnsafePointer<Float>, _ o: UnsafeMutablePointer<Float>, _ batch: Int, _ channels: Int,
                    _ plane: Int, _ a: [Float], _ b: [Float]) {
    a.withUnsafeBufferPointer { a in
        b.withUnsafeBufferPointer { b in
            for n in 0..<batch {
                let row = n * channels * plane
                if plane == 1 {
                    for c in 0..<channels { o[row + c] = x[row + c] * a[c] + b[c] }
                } else {
                    for c in 0..<channels {
                        let base = row + c * plane, (ac, bc) = (a[c], b[c])
                        for p in 0..<plane { o[base + p] = x[base + p] * ac + bc }
                    }
                }
            }
        }
    }
}
