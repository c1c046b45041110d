import CMicroKernels

/// A parameter's gradient as a backward pass leaves it: a tensor, or the matrix product that is
/// the whole of it, not computed yet, for an optimizer to take a block at a time.
public enum ParameterGradient {
    case tensor(Tensor)
    case pending(PendingProduct)

    /// The gradient as a tensor (a pending product computed whole).
    public var tensor: Tensor {
        switch self {
        case .tensor(let tensor): tensor
        case .pending(let product): product.value()
        }
    }
}

/// A matrix product op(A)·op(B) not computed yet, kept so that its one consumer can take it a
/// block of rows at a time while each block is in cache (an optimizer updating a weight from its
/// gradient) instead of the product being written whole to memory and read back.
public struct PendingProduct {
    public let a: Tensor, b: Tensor, transposeA: Bool, transposeB: Bool

    public init(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) {
        (self.a, self.b, self.transposeA, self.transposeB) = (a, b, transposeA, transposeB)
    }

    /// [m, n], the product's shape.
    public var shape: [Int] {
        let (m, _, n) = matmulSizes(a, transposeA, b, transposeB)
        return [m, n]
    }

    /// The product, computed whole.
    public func value() -> Tensor { matmul(a, b, transposeA: transposeA, transposeB: transposeB) }

    /// Hands every element of the product to `body(rows, block)`, a block of whole rows at a time
    /// (row stride n), each valid only during the call; the blocks do not overlap and run at once
    /// on the lab's threads (each thread a run of rows, packing all of op(B)), and
    /// every element has the bits `value()` gives it. Returns false, computing nothing, where the
    /// product cannot be taken in blocks: on OpenBLAS's kernels or the scalar portable ones, below
    /// `threadedProductSize` multiply–adds (a product that small stays in cache whole), or when
    /// op(B) is more than one packed block (1,024 columns, 256 inner).
    public func forEachBlock(_ body: (Range<Int>, UnsafePointer<Float>) -> Void) -> Bool {
        guard a.rank == 2, b.rank == 2, activeProductKernels == .portable, portableInstructionSet != fixed_order_scalar else {
            return false
        }
        let (m, k, n) = matmulSizes(a, transposeA, b, transposeB)
        guard m * n * k >= threadedProductSize, k <= 256 else { return false }
        // One run of whole rows a thread, so that a consumer streaming what lies beside the rows (a
        // weight, its moments) reads each thread's part in one run: cut into column blocks (as
        // `gemm` cuts a wide product), each thread's reads jump from row to row, measured slower.
        let parts = min(loopThreads, max(m / rowBlock, 1))
        let rowBounds = (0...parts).map { m * $0 / parts }
        guard n <= 1024 else { return false }
        let (lda, ldb) = (transposeA ? m : k, transposeB ? k : n)
        let (aBase, bBase) = (a.storage.pointer, b.storage.pointer)
        withoutActuallyEscaping(body) { body in
            parallelFor(parts) { part in
                let rows = rowBounds[part]..<rowBounds[part + 1]
                if rows.isEmpty { return }
                var receiver = BlockReceiver(body: body, firstRow: rows.lowerBound)
                let aRows = aBase + (transposeA ? rows.lowerBound : rows.lowerBound * lda)
                let done = withUnsafeMutablePointer(to: &receiver) { context in
                    gemm_fixed_order_row_blocks(portableInstructionSet, transposeA ? 1 : 0, transposeB ? 1 : 0, rows.count, n,
                                                k, aRows, lda, bBase, ldb, { context, first, count, block in
                        let receiver = context!.assumingMemoryBound(to: BlockReceiver.self).pointee
                        let start = receiver.firstRow + first
                        receiver.body(start..<start + count, block!)
                    }, context)
                }
                precondition(done == 1, "a product of \(rows.count) × \(n) × \(k) not taken in blocks")
            }
        }
        return true
    }
}

/// What the C kernel's row-block callback needs: the consumer and where the part starts.
private struct BlockReceiver {
    let body: (Range<Int>, UnsafePointer<Float>) -> Void
    let firstRow: Int
}
