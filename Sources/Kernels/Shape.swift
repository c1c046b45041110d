// Shape kernels: permutation, concatenation, slicing. All produce contiguous copies.

extension Tensor {
    /// Axes reordered: result axis i is source axis `axes[i]`.
    public func permuted(_ axes: [Int]) -> Tensor {
        precondition(axes.sorted() == Array(0..<rank), "\(axes) is not a permutation of \(rank) axes")
        if axes == Array(0..<rank) { return self }
        let outShape = axes.map { shape[$0] }
        var sourceStrides = [Int](repeating: 1, count: rank)
        for i in stride(from: rank - 2, through: 0, by: -1) { sourceStrides[i] = sourceStrides[i + 1] * shape[i + 1] }
        let strides = axes.map { sourceStrides[$0] }
        var out = Tensor(uninitializedShape: outShape)
        let zeros = [Int](repeating: 0, count: rank)
        out.withUnsafeMutableBufferPointer { o in
            withUnsafeBufferPointer { x in
                forEachBroadcastRun(shape: outShape, aStrides: strides, bStrides: zeros) { start, xi, _, n, xStep, _ in
                    for k in 0..<n { o[start + k] = x[xi + k * xStep] }
                }
            }
        }
        return out
    }

    /// A matrix's transpose.
    public func transposed() -> Tensor {
        precondition(rank == 2, "transposed() needs a matrix, got \(shape); use permuted(_:)")
        return permuted([1, 0])
    }

    /// Tensors joined along `axis` (all other dimensions equal).
    public static func concatenated(_ parts: [Tensor], alongAxis axis: Int) -> Tensor {
        precondition(!parts.isEmpty, "nothing to concatenate")
        var outShape = parts[0].shape
        outShape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
        for part in parts {
            var expected = outShape
            expected[axis] = part.shape[axis]
            precondition(part.shape == expected, "cannot concatenate \(part.shape) with \(parts[0].shape) along \(axis)")
        }
        let outer = outShape[..<axis].reduce(1, *), inner = outShape[(axis + 1)...].reduce(1, *)
        var out = Tensor(uninitializedShape: outShape)
        out.withUnsafeMutableBufferPointer { o in
            var offset = 0
            for part in parts {
                let run = part.shape[axis] * inner, outRun = outShape[axis] * inner
                part.withUnsafeBufferPointer { x in
                    for i in 0..<outer {
                        (o.baseAddress! + i * outRun + offset).update(from: x.baseAddress! + i * run, count: run)
                    }
                }
                offset += run
            }
        }
        return out
    }

    /// Elements `range` of `axis`.
    public func sliced(alongAxis axis: Int, _ range: Range<Int>) -> Tensor {
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[axis], "slice \(range) outside \(shape[axis])")
        var outShape = shape
        outShape[axis] = range.count
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        var out = Tensor(uninitializedShape: outShape)
        out.withUnsafeMutableBufferPointer { o in
            withUnsafeBufferPointer { x in
                for i in 0..<outer {
                    (o.baseAddress! + i * range.count * inner).update(
                        from: x.baseAddress! + (i * shape[axis] + range.lowerBound) * inner, count: range.count * inner)
                }
            }
        }
        return out
    }

    /// This tensor placed at `range` of `axis` in zeros of size `size` there (the pullback of slicing).
    public func padded(alongAxis axis: Int, to size: Int, at range: Range<Int>) -> Tensor {
        precondition(range.count == shape[axis] && range.upperBound <= size, "cannot place \(shape[axis]) at \(range)")
        var outShape = shape
        outShape[axis] = size
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        var out = Tensor(shape: outShape, repeating: 0)
        out.withUnsafeMutableBufferPointer { o in
            withUnsafeBufferPointer { x in
                for i in 0..<outer {
                    (o.baseAddress! + (i * size + range.lowerBound) * inner).update(
                        from: x.baseAddress! + i * range.count * inner, count: range.count * inner)
                }
            }
        }
        return out
    }
}
