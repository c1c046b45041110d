import Kernels

extension Variable {
    /// Reshape (a view of the same elements).
    public func reshaped(to newShape: [Int]) -> Variable {
        let source = shape
        return Variable.record(value.reshaped(to: newShape), parents: [self]) { g, _, _ in [g.reshaped(to: source)] }
    }
}

/// op(a)·op(b) for matrices; the pullback is two more products.
public func matmul(_ a: Variable, transposed transposeA: Bool = false,
                   _ b: Variable, transposed transposeB: Bool = false) -> Variable {
    Variable.record(matmul(a.value, transposed: transposeA, b.value, transposed: transposeB), parents: [a, b]) { g, _, needs in
        // C = A·B: dA = G·Bᵀ, dB = Aᵀ·G, with the transposes folded in.
        let da: Variable? = !needs[0] ? nil
            : transposeA ? matmul(b, transposed: transposeB, g, transposed: true)
            : matmul(g, transposed: false, b, transposed: !transposeB)
        let db: Variable? = !needs[1] ? nil
            : transposeB ? matmul(g, transposed: true, a, transposed: transposeA)
            : matmul(a, transposed: !transposeA, g, transposed: false)
        return [da, db]
    }
}
