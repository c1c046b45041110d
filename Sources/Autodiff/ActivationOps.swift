import Kernels

// Activations and pointwise functions. Derivatives of piecewise-linear functions use a
// constant mask (their second derivative is zero almost everywhere). Where a pullback has a
// one-pass kernel, it is used unless a graph of the gradient is being recorded.

extension Variable {
    public func relu() -> Variable {
        let x = value
        return Variable.record(x.relu(), parents: [self]) { g, _, _ in [g.scaledBySign(of: x, negativeSlope: 0)] }
    }

    public func leakyRelu(slope: Float = 0.2) -> Variable {
        let x = value
        return Variable.record(x.leakyRelu(slope: slope), parents: [self]) { g, _, _ in
            [g.scaledBySign(of: x, negativeSlope: slope)]
        }
    }

    /// This value where `x` > 0 and `negativeSlope` times it elsewhere (x is a constant).
    public func scaledBySign(of x: Tensor, negativeSlope: Float) -> Variable {
        Variable.record(value.scaledBySign(of: x, negativeSlope: negativeSlope), parents: [self]) { h, _, _ in
            [h.scaledBySign(of: x, negativeSlope: negativeSlope)]
        }
    }

    /// `scaledBySign(of: x, negativeSlope:)` of a matrix and that result's column sums (a fused
    /// dense layer's local gradient and its bias gradient): in one pass unless a graph of the
    /// gradient is being recorded, the two ops otherwise; the same numbers either way.
    public func scaledBySignAndColumnSums(of x: Tensor, negativeSlope: Float) -> (scaled: Variable, columnSums: Variable) {
        guard !GradientRecording.isEnabled else {
            let scaled = scaledBySign(of: x, negativeSlope: negativeSlope)
            return (scaled, scaled.channelSums())
        }
        let (scaled, sums) = value.scaledBySignAndColumnSums(of: x, negativeSlope: negativeSlope)
        return (Variable(scaled), Variable(sums))
    }

    public func tanh() -> Variable {
        Variable.record(value.tanh(), parents: [self]) { g, y, _ in
            GradientRecording.isEnabled ? [g * (1 - y * y)] : [Variable(g.value.zipped(with: y.value) { $0 * (1 - $1 * $1) })]
        }
    }

    public func sigmoid() -> Variable {
        Variable.record(value.sigmoid(), parents: [self]) { g, y, _ in
            GradientRecording.isEnabled ? [g * y * (1 - y)] : [Variable(g.value.zipped(with: y.value) { $0 * $1 * (1 - $1) })]
        }
    }

    public func exp() -> Variable {
        Variable.record(value.exp(), parents: [self]) { g, y, _ in [g * y] }
    }

    public func log() -> Variable {
        let x = self
        return Variable.record(value.log(), parents: [self]) { g, _, _ in [g / x] }
    }

    /// log(1 + eˣ), stable for large |x|.
    public func softplus() -> Variable {
        let x = self
        return Variable.record(value.softplus(), parents: [self]) { g, _, _ in
            GradientRecording.isEnabled ? [g * x.sigmoid()] : [Variable(g.value.zipped(with: x.value.sigmoid()) { $0 * $1 })]
        }
    }
}
