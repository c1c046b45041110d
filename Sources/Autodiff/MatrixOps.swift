import Kernels

extension Variable {
    /// Reshape (a view of the same elements).
    public func reshaped(to newShape: [Int]) -> Variable {
        let source = shape
        return Variable.record(value.reshaped(to: newShape), parents: [self]) { g, _, _ in [g.reshaped(to: source)] }
    }
}

/// op(a)·op(b) for matrices; the pullback is two more products.
public func matmul(_ a: Variable, _ b: Variable, transposeA: Bool = false, transposeB: Bool = false) -> Variable {
    Variable.record(matmul(a.value, b.value, transposeA: transposeA, transposeB: transposeB), parents: [a, b]) { g, _, needs in
        // C = A·B: dA = G·Bᵀ, dB = Aᵀ·G, with the transposes folded in.
        let da: Variable? = !needs[0] ? nil
            : transposeA ? matmul(b, g, transposeA: transposeB, transposeB: true)
            : matmul(g, b, transposeB: !transposeB)
        let db: Variable? = !needs[1] ? nil
            : transposeB ? matmul(g, a, transposeA: true, transposeB: transposeA)
            : matmul(a, g, transposeA: !transposeA)
        return [da, db]
    }
}
