import Kernels

// Elementwise ops with broadcasting: each forward beside its pullback.

extension Variable {
    public static func + (a: Variable, b: Variable) -> Variable {
        record(a.value + b.value, parents: [a, b]) { g, _, needs in
            [needs[0] ? g.summed(toShape: a.shape) : nil, needs[1] ? g.summed(toShape: b.shape) : nil]
        }
    }

    public static func - (a: Variable, b: Variable) -> Variable {
        record(a.value - b.value, parents: [a, b]) { g, _, needs in
            [needs[0] ? g.summed(toShape: a.shape) : nil, needs[1] ? (-g).summed(toShape: b.shape) : nil]
        }
    }

    public static func * (a: Variable, b: Variable) -> Variable {
        record(a.value * b.value, parents: [a, b]) { g, _, needs in
            [needs[0] ? (g * b).summed(toShape: a.shape) : nil, needs[1] ? (g * a).summed(toShape: b.shape) : nil]
        }
    }

    public static func / (a: Variable, b: Variable) -> Variable {
        record(a.value / b.value, parents: [a, b]) { g, _, needs in
            [needs[0] ? (g / b).summed(toShape: a.shape) : nil,
             needs[1] ? (-(g * a) / (b * b)).summed(toShape: b.shape) : nil]
        }
    }

    public static prefix func - (a: Variable) -> Variable {
        record(-a.value, parents: [a]) { g, _, _ in [-g] }
    }

    /// Multiplication by a constant scalar.
    public static func * (a: Variable, s: Float) -> Variable {
        record(a.value * s, parents: [a]) { g, _, _ in [g * s] }
    }
    public static func * (s: Float, a: Variable) -> Variable { a * s }

    /// Addition of a constant scalar.
    public static func + (a: Variable, s: Float) -> Variable {
        record(a.value + s, parents: [a]) { g, _, _ in [g] }
    }
    public static func + (s: Float, a: Variable) -> Variable { a + s }
    public static func - (a: Variable, s: Float) -> Variable { a + (-s) }
    public static func - (s: Float, a: Variable) -> Variable { -a + s }

    public static func + (a: Variable, b: Tensor) -> Variable { a + Variable(b) }
    public static func - (a: Variable, b: Tensor) -> Variable { a - Variable(b) }
    public static func * (a: Variable, b: Tensor) -> Variable { a * Variable(b) }

    /// Broadcasts to `shape` (the pullback of `summed(toShape:)`).
    public func broadcasted(to shape: [Int]) -> Variable {
        if self.shape == shape { return self }
        let source = self.shape
        return Variable.record(value + Tensor(shape: shape), parents: [self]) { g, _, _ in [g.summed(toShape: source)] }
    }

    /// Sums a broadcast value back to `shape`.
    public func summed(toShape shape: [Int]) -> Variable {
        if self.shape == shape { return self }
        let source = self.shape
        return Variable.record(value.summed(toShape: shape), parents: [self]) { g, _, _ in [g.broadcasted(to: source)] }
    }
}

// Pointwise functions of one or two values, with broadcasting where two.
extension Variable {
    public static func / (a: Variable, s: Float) -> Variable { a * (1 / s) }
    public static func / (a: Variable, b: Tensor) -> Variable { a / Variable(b) }

    /// √x; its derivative ½/√x is built from the output, so it differentiates again.
    public func squareRoot() -> Variable {
        Variable.record(value.squareRoot(), parents: [self]) { g, y, _ in [g * 0.5 / y] }
    }

    /// xᵖ for a constant exponent.
    public func raised(toPower exponent: Float) -> Variable {
        let x = self
        return Variable.record(value.raised(toPower: exponent), parents: [self]) { g, _, _ in
            [exponent == 2 ? g * x * 2 : g * x.raised(toPower: exponent - 1) * exponent]
        }
    }

    /// |x| (derivative ±1, taken as 1 at 0).
    public func absolute() -> Variable {
        let x = value
        return Variable.record(value.absolute(), parents: [self]) { g, _, _ in [g * x.mapped { $0 < 0 ? -1 : 1 }] }
    }

    /// x limited to [low, high]; the gradient passes where x is inside.
    public func clamped(low: Float, high: Float) -> Variable {
        let x = value
        return Variable.record(value.clamped(low: low, high: high), parents: [self]) { g, _, _ in
            [g * x.mask { $0 >= low && $0 <= high }]
        }
    }

    /// The larger of `a` and `b` elementwise (ties send the gradient to `a`).
    public static func maximum(_ a: Variable, _ b: Variable) -> Variable {
        let picksA = Tensor.combined(a.value, b.value) { $0 >= $1 ? 1 : 0 }
        return record(Tensor.maximum(a.value, b.value), parents: [a, b]) { g, _, needs in
            [needs[0] ? (g * picksA).summed(toShape: a.shape) : nil,
             needs[1] ? (g * (1 - Variable(picksA))).summed(toShape: b.shape) : nil]
        }
    }

    /// The smaller of `a` and `b` elementwise (ties send the gradient to `a`).
    public static func minimum(_ a: Variable, _ b: Variable) -> Variable {
        let picksA = Tensor.combined(a.value, b.value) { $0 <= $1 ? 1 : 0 }
        return record(Tensor.minimum(a.value, b.value), parents: [a, b]) { g, _, needs in
            [needs[0] ? (g * picksA).summed(toShape: a.shape) : nil,
             needs[1] ? (g * (1 - Variable(picksA))).summed(toShape: b.shape) : nil]
        }
    }
}
