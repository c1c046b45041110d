/// NumPy-style broadcasting of two shapes: aligned from the right, size-1 dimensions stretch.
public func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let rank = max(a.count, b.count)
    var result = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
        let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
        let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
        guard da == db || da == 1 || db == 1 else { return nil }
        result[i] = max(da, db)
    }
    return result
}

/// Element strides of `shape` viewed under `target` (0 where the dimension is stretched).
func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
    let offset = target.count - shape.count
    var strides = [Int](repeating: 0, count: target.count)
    var step = 1
    for i in (0..<shape.count).reversed() {
        strides[i + offset] = shape[i] == 1 ? 0 : step
        step *= shape[i]
    }
    return strides
}

/// Calls `body(outIndex, aIndex, bIndex, n, aStep, bStep)` for each innermost run of a broadcast.
@inline(__always)
func forEachBroadcastRun(
    shape: [Int], aStrides: [Int], bStrides: [Int],
    _ body: (_ out: Int, _ a: Int, _ b: Int, _ n: Int, _ aStep: Int, _ bStep: Int) -> Void
) {
    let rank = shape.count
    guard rank > 0 else { body(0, 0, 0, 1, 0, 0); return }
    let inner = shape[rank - 1]
    let outer = shape.dropLast().reduce(1, *)
    guard inner > 0 else { return }
    var index = [Int](repeating: 0, count: rank)
    var aOffset = 0, bOffset = 0
    for run in 0..<outer {
        body(run * inner, aOffset, bOffset, inner, aStrides[rank - 1], bStrides[rank - 1])
        var d = rank - 2
        while d >= 0 {
            index[d] += 1
            aOffset += aStrides[d]
            bOffset += bStrides[d]
            if index[d] < shape[d] { break }
            aOffset -= aStrides[d] * shape[d]
            bOffset -= bStrides[d] * shape[d]
            index[d] = 0
            d -= 1
        }
    }
}

/// `op(a, b)` elementwise with broadcasting.
@inline(__always)
func broadcastBinary(_ a: Tensor, _ b: Tensor, _ op: (Float, Float) -> Float) -> Tensor {
    if a.shape == b.shape {
        var out = Tensor(uninitializedShape: a.shape)
        let n = a.count
        out.withUnsafeMutableBufferPointer { o in
            a.withUnsafeBufferPointer { x in
                b.withUnsafeBufferPointer { y in
                    for i in 0..<n { o[i] = op(x[i], y[i]) }
                }
            }
        }
        return out
    }
    guard let shape = broadcastShape(a.shape, b.shape) else {
        preconditionFailure("shapes \(a.shape) and \(b.shape) do not broadcast")
    }
    var out = Tensor(uninitializedShape: shape)
    let aStrides = broadcastStrides(a.shape, to: shape), bStrides = broadcastStrides(b.shape, to: shape)
    out.withUnsafeMutableBufferPointer { o in
        a.withUnsafeBufferPointer { x in
            b.withUnsafeBufferPointer { y in
                forEachBroadcastRun(shape: shape, aStrides: aStrides, bStrides: bStrides) { start, ai, bi, n, aStep, bStep in
                    for k in 0..<n { o[start + k] = op(x[ai + k * aStep], y[bi + k * bStep]) }
                }
            }
        }
    }
    return out
}

extension Tensor {
    /// Sums a broadcast result back down to `target` (the pullback of broadcasting).
    public func summed(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        let padded = [Int](repeating: 1, count: rank - target.count) + target
        let axes = (0..<rank).filter { padded[$0] == 1 && shape[$0] != 1 }
        return summed(alongAxes: axes).reshaped(to: target)
    }

    /// Sum over `axes`, keeping them as size-1 dimensions.
    public func summed(alongAxes axes: [Int]) -> Tensor { reduced(alongAxes: axes, initial: 0, +) }
}
