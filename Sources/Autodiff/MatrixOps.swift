import Kernels

/// op(a)·op(b) for matrices (or [batch, ·, ·] stacks of them); the pullback is two more products.
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

/// x·Wᵀ + b for x [N, in], weight [out, in], bias [out]: Dense's product in one pass.
public func linear(_ input: Variable, _ weight: Variable, bias: Variable?) -> Variable {
    let parents = bias.map { [input, weight, $0] } ?? [input, weight]
    return Variable.record(linearForward(input.value, weight.value, bias?.value), parents: parents) { g, _, needs in
        [needs[0] ? matmul(g, weight) : nil,
         needs[1] ? matmul(g, input, transposeA: true) : nil] + (bias == nil ? [] : [needs[2] ? g.channelSums() : nil])
    }
}

/// leakyRelu(x·Wᵀ + b) in one op (`negativeSlope` 0 is ReLU): the activation is applied to the
/// product in place and its derivative is read from the output's sign, which is the input's.
public func linear(_ input: Variable, _ weight: Variable, bias: Variable?, negativeSlope: Float) -> Variable {
    let parents = bias.map { [input, weight, $0] } ?? [input, weight]
    var value = linearForward(input.value, weight.value, bias?.value)
    value.withUnsafeMutableBufferPointer { y in
        for i in 0..<y.count { y[i] = y[i] < 0 ? y[i] * negativeSlope : y[i] }  // a select, no branch
    }
    return Variable.record(value, parents: parents) { g, y, needs in
        let local = g.scaledBySign(of: y.value, negativeSlope: negativeSlope)
        return [needs[0] ? matmul(local, weight) : nil,
                needs[1] ? matmul(local, input, transposeA: true) : nil] + (bias == nil ? [] : [needs[2] ? local.channelSums() : nil])
    }
}

func linearForward(_ x: Tensor, _ w: Tensor, _ b: Tensor?) -> Tensor {
    guard let b else { return matmul(x, w, transposeB: true) }
    let (m, k, n) = (x.shape[0], x.shape[1], w.shape[0])
    precondition(x.rank == 2 && w.shape == [n, k] && b.shape == [n], "linear shapes \(x.shape), \(w.shape), \(b.shape)")
    var out = Tensor(uninitializedShape: [m, n])
    out.withUnsafeMutableBufferPointer { o in
        let bias = b.storage.pointer
        for i in 0..<m { for j in 0..<n { o[i * n + j] = bias[j] } }  // rows of a few dozen: no memcpy call per row
        gemm(false, true, m, n, k, x.storage.pointer, w.storage.pointer, 1, o.baseAddress!)
    }
    return out
}
