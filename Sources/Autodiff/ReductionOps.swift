import Kernels

// Reductions: sums carry the gradient code; means and variances are compositions.
extension Variable {
    /// Sum of all elements, as a scalar.
    public func sum() -> Variable {
        let source = shape
        return Variable.record(Tensor(value.sum()), parents: [self]) { g, _, _ in [g.broadcasted(to: source)] }
    }

    /// Mean of all elements, as a scalar.
    public func mean() -> Variable { sum() * (1 / Float(max(value.count, 1))) }

    /// Sum over `axes`, keeping them as size-1 dimensions.
    public func summed(alongAxes axes: [Int]) -> Variable {
        let source = shape
        return Variable.record(value.summed(alongAxes: axes), parents: [self]) { g, _, _ in [g.broadcasted(to: source)] }
    }

    /// Mean over `axes`, keeping them as size-1 dimensions.
    public func mean(alongAxes axes: [Int]) -> Variable {
        summed(alongAxes: axes) * (1 / Float(max(axes.reduce(1) { $0 * shape[$1] }, 1)))
    }

    /// Biased variance (divided by the count) over `axes`, keeping them as size-1 dimensions.
    public func variance(alongAxes axes: [Int]) -> Variable {
        let centered = self - mean(alongAxes: axes)
        return (centered * centered).mean(alongAxes: axes)
    }

    /// Largest element over `axes`, keeping them; ties share the gradient equally.
    public func maximum(alongAxes axes: [Int]) -> Variable {
        let x = value, largest = value.maximum(alongAxes: axes)
        return Variable.record(largest, parents: [self]) { g, _, _ in
            let hits = Tensor.combined(x, largest) { $0 == $1 ? 1 : 0 }
            let share = hits / hits.summed(alongAxes: axes)
            return [g.broadcasted(to: x.shape) * share]
        }
    }

    /// Per-channel sums of an [N, C, …] value: shape [C] (the bias gradient of Dense and Conv2D).
    public func channelSums() -> Variable {
        let source = shape
        return Variable.record(value.channelSums(), parents: [self]) { g, _, _ in
            var view = [Int](repeating: 1, count: source.count)
            view[1] = source[1]
            return [g.reshaped(to: view).broadcasted(to: source)]
        }
    }

    /// Adds `bias` [C] to every channel of an [N, C, …] value.
    public func addingChannelBias(_ bias: Variable) -> Variable {
        precondition(rank >= 2 && bias.shape == [shape[1]], "bias \(bias.shape) for channels of \(shape)")
        return Variable.record(value.addingChannelBias(bias.value), parents: [self, bias]) { g, _, needs in
            [g, needs[1] ? g.channelSums() : nil]
        }
    }
}
