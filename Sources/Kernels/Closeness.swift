import CMicroKernels

/// Minibatch discrimination's closeness sums of rows M [n, kernels·size] (closeness.c):
/// sums[i, b] = Σ_j exp(−‖M_i,b − M_j,b‖₁) over j in order, and the exponentials
/// [kernels, n, n] their pullback reuses. The same bits on every instruction set.
public func closenessSums(_ rows: Tensor, kernels: Int, size: Int) -> (sums: Tensor, exponentials: Tensor) {
    let n = rows.shape[0]
    precondition(rows.shape == [n, kernels * size], "closeness sums need [n, \(kernels * size)] rows, got \(rows.shape)")
    let sums = Tensor(uninitializedShape: [n, kernels]), exponentials = Tensor(uninitializedShape: [kernels, n, n])
    let scratch = Tensor(uninitializedShape: [(kernels * size + 2) * n])
    closeness_sums(portableInstructionSet, rows.storage.pointer, n, kernels, size, exponentials.storage.pointer,
                   sums.storage.pointer, scratch.storage.pointer)
    return (sums, exponentials)
}

/// dM [n, kernels·size] from the sums' gradient [n, kernels]: −Σ_j (g[i, b] + g[j, b]) · e_ijb ·
/// sign(M[i, b, c] − M[j, b, c]), over j ≠ i in order.
public func closenessSumsPullback(_ rows: Tensor, upstream: Tensor, exponentials: Tensor, kernels: Int, size: Int) -> Tensor {
    let n = rows.shape[0]
    precondition(upstream.shape == [n, kernels] && exponentials.shape == [kernels, n, n],
                 "closeness sums' pullback: upstream \(upstream.shape), exponentials \(exponentials.shape) for \(n) rows")
    let gradient = Tensor(uninitializedShape: rows.shape)
    let scratch = Tensor(uninitializedShape: [(2 * kernels * size + 1) * n])
    closeness_sums_pullback(portableInstructionSet, rows.storage.pointer, upstream.storage.pointer,
                            exponentials.storage.pointer, n, kernels, size, gradient.storage.pointer, scratch.storage.pointer)
    return gradient
}
