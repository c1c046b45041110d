import Kernels

// Activations and pointwise functions. Derivatives of piecewise-linear functions use a
// constant mask (their second derivative is zero almost everywhere).

extension Variable {
    public func relu() -> Variable {
        let x = value
        return Variable.record(x.relu(), parents: [self]) { g, _, _ in [g * x.mapped { $0 > 0 ? 1 : 0 }] }
    }

    public func leakyRelu(slope: Float = 0.2) -> Variable {
        let x = value
        return Variable.record(x.leakyRelu(slope: slope), parents: [self]) { g, _, _ in
            [g * x.mapped { $0 > 0 ? 1 : slope }]
        }
    }

    public func tanh() -> Variable {
        Variable.record(value.tanh(), parents: [self]) { g, y, _ in [g * (1 - y * y)] }
    }

    public func sigmoid() -> Variable {
        Variable.record(value.sigmoid(), parents: [self]) { g, y, _ in [g * y * (1 - y)] }
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
        return Variable.record(value.softplus(), parents: [self]) { g, _, _ in [g * x.sigmoid()] }
    }
}
