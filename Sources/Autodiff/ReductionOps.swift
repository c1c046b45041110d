import Kernels

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
}
