import Kernels

/// op(a)·op(b) for matrices (or [batch, ·, ·] stacks of them); the pullback is two more products.
public func matmul(_ a: Variable, _ b: Variable, transposeA: Bool = false, transposeB: Bool = false) -> Variable {
    Variable.record(matmul(a.value, b.value, transposeA: transposeA, transposeB: transposeB), parents: [a, b]) { g, _, needs in
        // C = A·B: dA = G·Bᵀ, dB = Aᵀ·G, with the transposes folded in.
        let da: Product? = !needs[0] ? nil
            : transposeA ? Product(b, g, transposeA: transposeB, transposeB: true)
            : Product(g, b, transposeB: !transposeB)
        let db: Product? = !needs[1] ? nil
            : transposeB ? Product(g, a, transposeA: true, transposeB: transposeA)
            : Product(a, g, transposeA: !transposeA)
        let (first, second) = products(da, db)
        return [first, second]
    }
}

/// One matrix product of a pullback, not yet computed.
struct Product {
    let a: Variable, b: Variable, transposeA: Bool, transposeB: Bool

    init(_ a: Variable, _ b: Variable, transposeA: Bool = false, transposeB: Bool = false) {
        (self.a, self.b, self.transposeA, self.transposeB) = (a, b, transposeA, transposeB)
    }

    /// Every element of A meets every column of op(B) once.
    var multiplyAdds: Int { a.value.count * (transposeB ? b.shape[b.rank - 2] : b.shape[b.rank - 1]) }

    func value() -> Tensor { matmul(a.value, b.value, transposeA: transposeA, transposeB: transposeB) }
    func recorded() -> Variable { matmul(a, b, transposeA: transposeA, transposeB: transposeB) }
}

/// The two gradient products of a pullback (each nil when not needed), returned as a pair so
/// that the pullback makes its one array of gradients. In a plain backward
/// pass (no graph recorded) with both needed and each of at least `pairedProductSize`
/// multiply–adds, they run side by side, one thread each, instead of one after the other with
/// each cut over the threads: no thread then packs an operand another thread packs too. Same
/// numbers either way (`gemm`'s row blocks give the bits of one call).
func products(_ first: Product?, _ second: Product?) -> (Variable?, Variable?) {
    guard let first, let second, !GradientRecording.isEnabled, matrixThreads() > 1,
          min(first.multiplyAdds, second.multiplyAdds) >= pairedProductSize else {
        return (first?.recorded(), second?.recorded())
    }
    var values: [Tensor?] = [nil, nil]
    try! forEachJob(2, threads: 2, { $0 == 0 ? first.value() : second.value() }, completed: { values[$0] = $1 })
    return (Variable(values[0]!), Variable(values[1]!))
}

/// A layer's weight-gradient product, or nil having left it to `weight` as a pending product
/// (added to those its other uses left) when the backward pass asked for one
/// (`gradientsForUpdate`) and no gradient of another kind has reached the weight.
func weightGradient(_ product: Product, for weight: Variable) -> Product? {
    guard let node = weight.node, node.acceptsPendingProduct, node.gradient == nil else { return product }
    let pending = PendingProduct(product.a.value, product.b.value, transposeA: product.transposeA,
                                 transposeB: product.transposeB)
    node.pendingProduct = node.pendingProduct.map { $0.adding(pending) } ?? pending
    return nil
}

/// The smallest product `products` runs beside another. Measured on two idle cores, three
/// alternating runs: mlp-gaussian 0.97–1.02 → 0.94–0.98 ms a step, mlp-fashion 5.62–5.84 →
/// 5.38–5.55 ms; pairing mlp-quadratic's 2^16 products too changes nothing measurable.
let pairedProductSize = 1 << 20

/// x·Wᵀ + b for x [N, in], weight [out, in], bias [out]: Dense's product in one pass.
public func linear(_ input: Variable, _ weight: Variable, bias: Variable?) -> Variable {
    Variable.record(linearForward(input.value, weight.value, bias?.value), parents: layerParents(input, weight, bias)) { g, _, needs in
        let (dx, dw) = products(needs[0] ? Product(g, weight) : nil,
                                needs[1] ? weightGradient(Product(g, input, transposeA: true), for: weight) : nil)
        return bias == nil ? [dx, dw] : [dx, dw, needs[2] ? g.channelSums() : nil]
    }
}

/// leakyRelu(x·Wᵀ + b) in one op (`negativeSlope` 0 is ReLU): the activation is applied to the
/// product in place and its derivative is read from the output's sign, which is the input's.
public func linear(_ input: Variable, _ weight: Variable, bias: Variable?, negativeSlope: Float) -> Variable {
    var value = linearForward(input.value, weight.value, bias?.value)
    value.applyLeakyRelu(slope: negativeSlope)
    return Variable.record(value, parents: layerParents(input, weight, bias)) { g, y, needs in
        // The bias gradient (the local gradient's column sums) in the same pass as the local gradient.
        let (local, biasGradient): (Variable, Variable?) =
            bias != nil && needs[2] ? g.scaledBySignAndColumnSums(of: y.value, negativeSlope: negativeSlope)
                                    : (g.scaledBySign(of: y.value, negativeSlope: negativeSlope), nil)
        let (dx, dw) = products(needs[0] ? Product(local, weight) : nil,
                                needs[1] ? weightGradient(Product(local, input, transposeA: true), for: weight) : nil)
        return bias == nil ? [dx, dw] : [dx, dw, biasGradient]
    }
}

/// The parents of a layer op: input, weight and the bias if there is one (built only when the
/// op is recorded: `Variable.record` takes them as an autoclosure).
func layerParents(_ input: Variable, _ weight: Variable, _ bias: Variable?) -> [Variable] {
    bias.map { [input, weight, $0] } ?? [input, weight]
}

func linearForward(_ x: Tensor, _ w: Tensor, _ b: Tensor?) -> Tensor {
    guard let b else { return matmul(x, w, transposeB: true) }
    let (m, k, n) = (x.shape[0], x.shape[1], w.shape[0])
    precondition(x.rank == 2 && w.shape == [n, k] && b.shape == [n], "linear shapes \(x.shape), \(w.shape), \(b.shape)")
    var out = Tensor(uninitializedShape: [m, n])
    out.withUnsafeMutableBufferPointer { o in
        gemm(false, true, m, n, k, x.storage.pointer, w.storage.pointer, 0, o.baseAddress!, bias: b.storage.pointer)
    }
    return out
}
