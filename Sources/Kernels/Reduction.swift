// Reductions over chosen axes. Reduced axes are kept as size-1 dimensions, so the result
// broadcasts back against its source.

import CMicroKernels

extension Tensor {
    /// Largest element over `axes`, keeping them as size-1 dimensions.
    public func maximum(alongAxes axes: [Int]) -> Tensor {
        reduced(alongAxes: axes, initial: -.infinity) { max($0, $1) }
    }

    /// Mean over `axes`, keeping them as size-1 dimensions.
    public func mean(alongAxes axes: [Int]) -> Tensor {
        let n = axes.reduce(1) { $0 * shape[$1] }
        return summed(alongAxes: axes) * (1 / Float(max(n, 1)))
    }

    /// `combine` folded over `axes` from `initial`, keeping them as size-1 dimensions.
    @inline(__always)
    func reduced(alongAxes axes: [Int], initial: Float, _ combine: (Float, Float) -> Float) -> Tensor {
        var outShape = shape
        for axis in axes { outShape[axis] = 1 }
        var out = Tensor(shape: outShape, repeating: initial)
        let outStrides = broadcastStrides(outShape, to: shape)
        let zeros = [Int](repeating: 0, count: rank)
        out.withUnsafeMutableBufferPointer { o in
            withUnsafeBufferPointer { x in
                forEachBroadcastRun(shape: shape, aStrides: outStrides, bStrides: zeros) { start, oi, _, n, oStep, _ in
                    if oStep == 0 {
                        // Fold the run on its own, then into the output (for sums: partial sums).
                        var acc = x[start]
                        for k in 1..<n { acc = combine(acc, x[start + k]) }
                        o[oi] = combine(o[oi], acc)
                    } else {
                        for k in 0..<n { o[oi + k] = combine(o[oi + k], x[start + k]) }
                    }
                }
            }
        }
        return out
    }

    /// Per-channel sums of an NCHW tensor (or of the columns of an [N, C] matrix): shape [C].
    public func channelSums() -> Tensor {
        precondition(rank >= 2, "channel sums need rank ≥ 2, got \(shape)")
        let batch = shape[0], channels = shape[1], plane = count / max(batch * channels, 1)
        if channelBlocks == nil && plane == 1 && batch * channels > 0 {
            // Up to 64 columns side by side, each summing its rows in order (vector_math.c: the
            // same additions in the same order as one column at a time, so the same bits).
            let out = Tensor(uninitializedShape: [channels])
            column_sums(portableInstructionSet, storage.pointer, batch, channels, out.storage.pointer)
            return withExtendedLifetime(self) { out }
        }
        var out = Tensor(shape: [channels], repeating: 0)
        if let blocks = channelBlocks {
            // The same chains on 16-channel blocks: each channel's plane summed in order from 0,
            // the planes added into its sum in increasing n; 16 channels side by side.
            let o = SharedPointer(base: out.uniqueMutablePointer()), x = blocks.pointer, groups = channels / 16
            forEachSlice(groups, minimumSlice: max(1, plainSlice / max(16 * batch * plane, 1))) { slice in
                for n in 0..<batch {
                    for j in slice {
                        let block = UnsafeRawPointer(x + (n * groups + j) * plane * 16)
                        var acc = SIMD16<Float>(repeating: 0)
                        for p in 0..<plane { acc += block.loadUnaligned(fromByteOffset: p * 64, as: SIMD16<Float>.self) }
                        for k in 0..<16 { o.base[j * 16 + k] += acc[k] }
                    }
                }
            }
            return out
        }
        out.withUnsafeMutableBufferPointer { o in
            withUnsafeBufferPointer { x in
                // Channels side by side on the lab's threads, each summed over the batch in order;
                // within a slice four channels' planes at a time, four independent chains of
                // additions (each plane's sum is a chain in a fixed order, each addition waiting
                // for the last).
                let o = SharedPointer(base: o.baseAddress!), x = x.baseAddress!
                forEachSlice(channels, minimumSlice: max(1, plainSlice / max(batch * plane, 1))) { slice in
                    for n in 0..<batch {
                        var c = slice.lowerBound
                        while c + 4 <= slice.upperBound {
                            let base = x + (n * channels + c) * plane
                            let (x0, x1, x2, x3) = (base, base + plane, base + 2 * plane, base + 3 * plane)
                            var (a0, a1, a2, a3): (Float, Float, Float, Float) = (0, 0, 0, 0)
                            for p in 0..<plane {
                                a0 += x0[p]
                                a1 += x1[p]
                                a2 += x2[p]
                                a3 += x3[p]
                            }
                            o.base[c] += a0
                            o.base[c + 1] += a1
                            o.base[c + 2] += a2
                            o.base[c + 3] += a3
                            c += 4
                        }
                        for c in c..<slice.upperBound {
                            let base = (n * channels + c) * plane
                            var acc: Float = 0
                            for p in 0..<plane { acc += x[base + p] }
                            o.base[c] += acc
                        }
                    }
                }
            }
        }
        return out
    }
}

extension Tensor {
    /// `bias[c]` added to every element of channel c of an [N, C, …] tensor.
    public func addingChannelBias(_ bias: Tensor) -> Tensor {
        let batch = shape[0], channels = shape[1], plane = count / max(batch * channels, 1)
        var out = Tensor(uninitializedShape: shape)
        out.withUnsafeMutableBufferPointer { o in
            withUnsafeBufferPointer { x in
                bias.withUnsafeBufferPointer { b in
                    let o = SharedPointer(base: o.baseAddress!), x = x.baseAddress!, b = b.baseAddress!
                    forEachSlice(batch * channels, minimumSlice: max(1, plainSlice / max(plane, 1))) { planes in
                        for index in planes {
                            let base = index * plane, value = b[index % channels]
                            for p in 0..<plane { o.base[base + p] = x[base + p] + value }
                        }
                    }
                }
            }
        }
        return out
    }
}
