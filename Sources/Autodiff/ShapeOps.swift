import Kernels

// Shape ops: each pullback is the inverse rearrangement of the gradient.
extension Variable {
    /// Reshape (a view of the same elements).
    public func reshaped(to newShape: [Int]) -> Variable {
        let source = shape
        return Variable.record(value.reshaped(to: newShape), parents: [self]) { g, _, _ in [g.reshaped(to: source)] }
    }

    /// [N, …] flattened to [N, rest].
    public func flattened() -> Variable { reshaped(to: [shape[0], value.count / max(shape[0], 1)]) }

    /// Axes reordered: result axis i is axis `axes[i]` of this value.
    public func permuted(_ axes: [Int]) -> Variable {
        var inverse = axes
        for (i, axis) in axes.enumerated() { inverse[axis] = i }
        return Variable.record(value.permuted(axes), parents: [self]) { g, _, _ in [g.permuted(inverse)] }
    }

    /// A matrix's transpose.
    public func transposed() -> Variable { permuted([1, 0]) }

    /// Broadcast to `shape` (NumPy's expand).
    public func expanded(to shape: [Int]) -> Variable { broadcasted(to: shape) }

    /// Elements `range` along `axis`.
    public func sliced(alongAxis axis: Int, _ range: Range<Int>) -> Variable {
        let size = shape[axis]
        return Variable.record(value.sliced(alongAxis: axis, range), parents: [self]) { g, _, _ in
            [g.padded(alongAxis: axis, to: size, at: range)]
        }
    }

    /// This value placed at `range` along `axis` in zeros of size `size` there.
    public func padded(alongAxis axis: Int, to size: Int, at range: Range<Int>) -> Variable {
        Variable.record(value.padded(alongAxis: axis, to: size, at: range), parents: [self]) { g, _, _ in
            [g.sliced(alongAxis: axis, range)]
        }
    }

    /// Values joined along `axis`.
    public static func concatenated(_ parts: [Variable], alongAxis axis: Int) -> Variable {
        let sizes = parts.map { $0.shape[axis] }
        return record(Tensor.concatenated(parts.map(\.value), alongAxis: axis), parents: parts) { g, _, needs in
            var start = 0
            return sizes.enumerated().map { index, size in
                defer { start += size }
                return needs[index] ? g.sliced(alongAxis: axis, start..<(start + size)) : nil
            }
        }
    }
}
