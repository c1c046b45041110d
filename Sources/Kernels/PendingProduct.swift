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

/// A matrix product op(A)·op(B) not computed yet, or a sum of such products of one shape (a
/// weight's gradient over its uses, as a backward pass accumulates it), kept so that its one
/// consumer can take it a block of rows at a time while each block is in cache (an optimizer
/// updating a weight from its gradient) instead of the product being written whole to memory
/// and read back.
public struct PendingProduct {
    /// The first product: op(a)·op(b).
    public let a: Tensor, b: Tensor, transposeA: Bool, transposeB: Bool
    /// The products added to the first, in order (none for a single product: no array is made).
    public private(set) var addends: [PendingProduct] = []

    public init(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) {
        (self.a, self.b, self.transposeA, self.transposeB) = (a, b, transposeA, transposeB)
    }

    /// This sum with `product` (a single product of the same shape) added last.
    public func adding(_ product: PendingProduct) -> PendingProduct {
        precondition(product.addends.isEmpty && product.shape == shape, "adding a product of shape \(product.shape) to one of \(shape)")
        var sum = self
        sum.addends.append(product)
        return sum
    }

    /// [m, n], the product's shape.
    public var shape: [Int] {
        let (m, _, n) = matmulSizes(a, transposeA, b, transposeB)
        return [m, n]
    }

    /// The product, computed whole: each term computed whole and added to the sum so far, as a
    /// backward pass accumulates a gradient (`Tensor.add`).
    public func value() -> Tensor {
        var sum = matmul(a, b, transposeA: transposeA, transposeB: transposeB)
        for product in addends { sum.add(product.value()) }
        return sum
    }

    /// Hands every element of the product to `body(rows, block)`, a block of whole rows at a time
    /// (row stride n), each valid only during the call; the blocks do not overlap and run at once
    /// on the lab's threads (each claiming blocks until none is left, large ones first, packing
    /// every term's op(B) once), and every element has the bits `value()` gives it. Returns false,
    /// computing nothing, where the product cannot be taken in blocks: on OpenBLAS's kernels or the
    /// scalar portable ones, below `threadedProductSize` multiply–adds (a product that small stays
    /// in cache whole), when a term's op(B) is more than one packed block (1,024 columns, 256
    /// inner), or a sum of more than four products.
    public func forEachBlock(_ body: (Range<Int>, UnsafePointer<Float>) -> Void) -> Bool {
        let products = [self] + addends
        guard products.count <= Int(max_product_terms), activeProductKernels == .portable,
              portableInstructionSet != fixed_order_scalar,
              products.allSatisfy({ $0.a.rank == 2 && $0.b.rank == 2 }) else { return false }
        let sizes = products.map { matmulSizes($0.a, $0.transposeA, $0.b, $0.transposeB) }
        let (m, n) = (sizes[0].0, sizes[0].2), depth = sizes.map(\.1).reduce(0, +)
        guard m * n * depth >= threadedProductSize, sizes.allSatisfy({ $0.1 <= 256 }), n <= 1024 else { return false }
        // Whole rows, so that a consumer streaming what lies beside the rows (a weight, its
        // moments) reads each block in one run: cut into column blocks (as `gemm` cuts a wide
        // product), each thread's reads jump from row to row, measured slower. Blocks claimed as
        // threads come free rather than halves fixed in advance: on a busy host the halves
        // finished far apart.
        let terms = zip(products, sizes).map { product, size in
            product_term(transpose_a: product.transposeA ? 1 : 0, transpose_b: product.transposeB ? 1 : 0, k: size.1,
                         a: product.a.storage.pointer, lda: product.transposeA ? m : size.1,
                         b: product.b.storage.pointer, ldb: product.transposeB ? size.1 : n)
        }
        let threads = min(loopThreads, max(m / rowBlock, 1))
        var claimed: UInt64 = 0
        withExtendedLifetime(products) {
            withoutActuallyEscaping(body) { body in
                withUnsafeMutablePointer(to: &claimed) { claimed in
                    let claimed = SharedPointer(base: claimed)
                    terms.withUnsafeBufferPointer { terms in
                        let terms = SharedPointer(base: UnsafeMutablePointer(mutating: terms.baseAddress!))
                        parallelFor(threads) { side in
                            var receiver = BlockReceiver(body: body)
                            let done = withUnsafeMutablePointer(to: &receiver) { context in
                                gemm_fixed_order_row_blocks(portableInstructionSet, m, n, terms.base, Int32(products.count), {
                                    context, first, count, block in
                                    context!.assumingMemoryBound(to: BlockReceiver.self).pointee.body(first..<first + count, block!)
                                }, context, claimed.base, threads, side)
                            }
                            precondition(done == 1, "a product of \(m) × \(n) × \(depth) not taken in blocks")
                        }
                    }
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
