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
    /// on the lab's threads (each claiming blocks until none is left, large ones first, packing
    /// all of op(B) once), and every element has the bits `value()` gives it. Returns false, computing
    /// nothing, where the product cannot be taken in blocks: on OpenBLAS's kernels or the scalar
    /// portable ones, below `threadedProductSize` multiply–adds (a product that small stays in
    /// cache whole), or when op(B) is more than one packed block (1,024 columns, 256 inner).
    public func forEachBlock(_ body: (Range<Int>, UnsafePointer<Float>) -> Void) -> Bool {
        guard a.rank == 2, b.rank == 2, activeProductKernels == .portable, portableInstructionSet != fixed_order_scalar else {
            return false
        }
        let (m, k, n) = matmulSizes(a, transposeA, b, transposeB)
        guard m * n * k >= threadedProductSize, k <= 256, n <= 1024 else { return false }
        // Whole rows, so that a consumer streaming what lies beside the rows (a weight, its
        // moments) reads each block in one run: cut into column blocks (as `gemm` cuts a wide
        // product), each thread's reads jump from row to row, measured slower. Blocks claimed as
        // threads come free rather than halves fixed in advance: on a busy host the halves
        // finished far apart.
        let (lda, ldb) = (transposeA ? m : k, transposeB ? k : n)
        let (aBase, bBase) = (a.storage.pointer, b.storage.pointer)
        let threads = min(loopThreads, max(m / rowBlock, 1))
        var claimed: UInt64 = 0
        withoutActuallyEscaping(body) { body in
            withUnsafeMutablePointer(to: &claimed) { claimed in
                let claimed = SharedPointer(base: claimed)
                parallelFor(threads) { side in
                    var receiver = BlockReceiver(body: body)
                    let done = withUnsafeMutablePointer(to: &receiver) { context in
                        gemm_fixed_order_row_blocks(portableInstructionSet, transposeA ? 1 : 0, transposeB ? 1 : 0, m, n,
                                                    k, aBase, lda, bBase, ldb, { context, first, count, block in
                            context!.assumingMemoryBound(to: BlockReceiver.self).pointee.body(first..<first + count, block!)
                        }, context, claimed.base, threads, side)
                    }
                    precondition(done == 1, "a product of \(m) × \(n) × \(k) not taken in blocks")
                }
            }
        }
        return true
    }
}

/// What the C kernel's row-block callback needs: the consumer.
private struct BlockReceiver {
    let body: (Range<Int>, UnsafePointer<Float>) -> Void
}
