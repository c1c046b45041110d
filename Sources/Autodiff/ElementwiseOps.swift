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
