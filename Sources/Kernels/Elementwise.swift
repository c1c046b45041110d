import CMicroKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Elementwise kernels: plain loops over contiguous buffers, no gradients.

/// The fewest elements a thread's slice of a plain elementwise loop gets (a comparison or an
/// arithmetic operation an element, bound by memory): 2¹⁷, about 50 µs of work. Image-sized
/// tensors (the DCGAN's activations, 0.4–3.2 M elements) are split over the lab's threads; the
/// MLPs' (at most 64 × 1,024) stay on one, where splitting measured no gain. Elementwise, so the
/// numbers do not depend on the slicing. The loops that take it are written out, not `mapped`
/// closures: a closure handed to another thread's slice is called once an element, unvectorised.
let plainSlice = 1 << 17

extension Tensor {
    /// `transform` applied to every element.
    @inlinable @inline(__always)
    public func mapped(_ transform: (Float) -> Float) -> Tensor {
        // Raw pointers rather than the closure-taking accessors, so that `transform` inlines
        // into the loop in other modules too; `out` is fresh, hence unshared.
        let out = Tensor(uninitializedShape: shape)
        let o = out.storage.pointer, x = storage.pointer
        for i in 0..<count { o[i] = transform(x[i]) }
        return out
    }

    /// `transform` applied to every element, in slices on the lab's threads when each gets at
    /// least `librarySlice` elements: for calls into the maths library (tens of cycles an
    /// element, where a cheap loop gains nothing from a second thread). Elementwise, so the
    /// numbers do not depend on the slicing.
    @inline(__always)
    func mappedOnThreads(_ transform: (Float) -> Float) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        let o = SharedPointer(base: out.storage.pointer), x = storage.pointer
        forEachSlice(count, minimumSlice: librarySlice) { slice in
            for i in slice { o.base[i] = transform(x[i]) }
        }
        return out
    }

    /// One of vector_math.c's maps over every element, on the portable kernels' instruction set
    /// (the same bits on each), in slices on the lab's threads when each gets at least
    /// `vectorMathSlice` elements.
    func mapped(by kernel: (fixed_order_isa, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int) -> Void) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        let o = SharedPointer(base: out.storage.pointer), x = storage.pointer, isa = portableInstructionSet
        forEachSlice(count, minimumSlice: vectorMathSlice) { slice in
            kernel(isa, x + slice.lowerBound, o.base + slice.lowerBound, slice.count)
        }
        return out
    }

    /// `combine(self[i], other[i])` for two tensors of the same shape.
    @inlinable @inline(__always)
    public func zipped(with other: Tensor, _ combine: (Float, Float) -> Float) -> Tensor {
        precondition(shape == other.shape, "shapes \(shape) and \(other.shape) differ")
        let out = Tensor(uninitializedShape: shape)
        let o = out.storage.pointer, x = storage.pointer, y = other.storage.pointer
        for i in 0..<count { o[i] = combine(x[i], y[i]) }
        return out
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor { broadcastBinary(a, b, +) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { broadcastBinary(a, b, -) }
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        guard a.shape == b.shape else { return broadcastBinary(a, b, *) }
        let out = Tensor(uninitializedShape: a.shape)
        let o = SharedPointer(base: out.storage.pointer), x = a.storage.pointer, y = b.storage.pointer
        forEachSlice(out.count, minimumSlice: plainSlice) { slice in
            for i in slice { o.base[i] = x[i] * y[i] }
        }
        return out
    }
    public static func / (a: Tensor, b: Tensor) -> Tensor { broadcastBinary(a, b, /) }
    public static prefix func - (a: Tensor) -> Tensor { a.mapped { -$0 } }
    public static func * (a: Tensor, s: Float) -> Tensor { a.mapped { $0 * s } }
    public static func + (a: Tensor, s: Float) -> Tensor { a.mapped { $0 + s } }

    /// The larger of two values elementwise, with broadcasting.
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor { broadcastBinary(a, b) { max($0, $1) } }
    /// The smaller of two values elementwise, with broadcasting.
    public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor { broadcastBinary(a, b) { min($0, $1) } }
    /// `op(a, b)` elementwise with broadcasting.
    @inline(__always)
    public static func combined(_ a: Tensor, _ b: Tensor, _ op: (Float, Float) -> Float) -> Tensor {
        if a.shape == b.shape { return a.zipped(with: b, op) }
        return broadcastBinary(a, b, op)
    }

    /// `self += other` in place (same shape), the accumulation of gradients.
    public mutating func add(_ other: Tensor) {
        precondition(shape == other.shape, "shapes \(shape) and \(other.shape) differ")
        let n = count
        withUnsafeMutableBufferPointer { o in
            let o = SharedPointer(base: o.baseAddress!), y = other.storage.pointer
            forEachSlice(n, minimumSlice: plainSlice) { slice in
                for i in slice { o.base[i] += y[i] }
            }
        }
    }

    /// eˣ, log and the sigmoid below run on the maths library, not on vector_math.c: the toy
    /// lessons' seeded trajectories and the judges' weights, and so the numbers the lessons print,
    /// follow from these functions' bits (softplus feeds none of them: BCE's gradient is the
    /// sigmoid).
    public func exp() -> Tensor { mappedOnThreads { expf($0) } }
    public func log() -> Tensor { mappedOnThreads { logf($0) } }
    /// tanh runs on vector_math.c, by the maths library's own method in its own operations: every
    /// float gives the bits of glibc's tanhf (to 2.40, checked over all 2³² floats by
    /// VectorMathTests), many elements at once (1.5 ns an element on AVX-512 against tanhf's 11).
    public func tanh() -> Tensor { mapped(by: vector_tanh) }
    /// 1 / (1 + e⁻ˣ), evaluated on the side that cannot overflow: 1 / (1 + e⁻ˣ) for x ≥ 0 and
    /// eˣ / (1 + eˣ) below, e by glibc's expf's method (vector_math.c), its bits on every machine.
    public func sigmoid() -> Tensor { mapped(by: vector_sigmoid) }
    public func relu() -> Tensor { mapped { max($0, 0) } }
    /// In 16-channel blocks when this tensor is.
    public func leakyRelu(slope: Float) -> Tensor {
        let out = Tensor(uninitializedShape: shape, inChannelBlocks: channelBlocks != nil)
        let o = SharedPointer(base: out.elementsAsTheyLie), x = elementsAsTheyLie
        let isa = portableInstructionSet
        forEachSlice(count, minimumSlice: plainSlice) { slice in
            vector_leaky_relu(isa, x + slice.lowerBound, o.base + slice.lowerBound, slice.count, slope)
        }
        return out
    }

    /// LeakyReLU in place (x > 0 ? x : slope·x on every element), on one thread: for the fused
    /// layer ops, whose product made this tensor.
    public mutating func applyLeakyRelu(slope: Float) {
        let x = uniqueMutablePointer()
        vector_leaky_relu(portableInstructionSet, x, x, count, slope)
    }

    /// Each element where `sign`'s is positive, times `negativeSlope` elsewhere: LeakyReLU's
    /// pullback (`sign` its input, or its output, which has the same sign).
    /// In 16-channel blocks when this tensor or `sign` is.
    public func scaledBySign(of sign: Tensor, negativeSlope: Float) -> Tensor {
        precondition(shape == sign.shape, "shapes \(shape) and \(sign.shape) differ")
        let (upstream, sign) = inOneLayout(with: sign)
        let out = Tensor(uninitializedShape: shape, inChannelBlocks: upstream.channelBlocks != nil)
        let o = SharedPointer(base: out.elementsAsTheyLie), g = upstream.elementsAsTheyLie, x = sign.elementsAsTheyLie
        let isa = portableInstructionSet
        forEachSlice(count, minimumSlice: plainSlice) { slice in
            let start = slice.lowerBound
            vector_scaled_by_sign(isa, g + start, x + start, o.base + start, slice.count, negativeSlope)
        }
        return withExtendedLifetime((upstream, sign)) { out }
    }

    /// `scaledBySign(of: sign, negativeSlope:)` of a matrix and that result's `channelSums()` (its
    /// column sums): a fused dense layer's local gradient and its bias gradient. In one pass on one
    /// thread (vector_math.c) when the pullback would run on one thread anyway, with the bits of
    /// the two either way.
    public func scaledBySignAndColumnSums(of sign: Tensor, negativeSlope: Float) -> (scaled: Tensor, columnSums: Tensor) {
        precondition(rank == 2 && shape == sign.shape, "scaledBySignAndColumnSums needs two matrices of one shape, got \(shape) and \(sign.shape)")
        guard count < 2 * plainSlice, channelBlocks == nil, sign.channelBlocks == nil else {
            let scaled = scaledBySign(of: sign, negativeSlope: negativeSlope)
            return (scaled, scaled.channelSums())
        }
        let (rows, columns) = (shape[0], shape[1])
        let out = Tensor(uninitializedShape: shape), sums = Tensor(uninitializedShape: [columns])
        scaled_by_sign_column_sums(portableInstructionSet, storage.pointer, sign.storage.pointer, out.storage.pointer, rows, columns,
                                   negativeSlope, sums.storage.pointer)
        return withExtendedLifetime((self, sign)) { (out, sums) }
    }

    /// log(1 + eˣ) without overflow.
    public func softplus() -> Tensor { mapped(by: vector_softplus) }

    public func squareRoot() -> Tensor { mapped { $0.squareRoot() } }
    public func absolute() -> Tensor { mapped { abs($0) } }
    /// Every element raised to `exponent`.
    public func raised(toPower exponent: Float) -> Tensor {
        exponent == 2 ? mapped { $0 * $0 } : mappedOnThreads { powf($0, exponent) }
    }
    /// Every element limited to [low, high].
    public func clamped(low: Float, high: Float) -> Tensor { mapped { min(max($0, low), high) } }
    /// 1 where `predicate` holds, 0 elsewhere.
    @inlinable @inline(__always)
    public func mask(_ predicate: (Float) -> Bool) -> Tensor { mapped { predicate($0) ? 1 : 0 } }

    /// Sum of all elements (accumulated in Double).
    public func sum() -> Float {
        withUnsafeBufferPointer { x in
            var acc = 0.0
            for v in x { acc += Double(v) }
            return Float(acc)
        }
    }
    public func mean() -> Float { count == 0 ? 0 : sum() / Float(count) }
    /// The fraction of elements for which `predicate` holds: `mask(predicate).mean()`, counted
    /// (the same number: a sum of ones is exact) without the mask.
    @inlinable
    public func fraction(where predicate: (Float) -> Bool) -> Float {
        guard count > 0 else { return 0 }
        let x = storage.pointer
        var hits = 0
        for i in 0..<count where predicate(x[i]) { hits += 1 }
        return Float(hits) / Float(count)
    }
}


/// Adam's step on `count` elements (vector_math.c's `adam_update`, on the portable kernels'
/// instruction set): m = β1·m + (1 − β1)·g, v = β2·v + (1 − β2)·g·g, p −= stepSize·m / (√v + ε),
/// the same bits on every instruction set.
public func adamStep(parameter: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>,
                     firstMoment: UnsafeMutablePointer<Float>, secondMoment: UnsafeMutablePointer<Float>, count: Int,
                     beta1: Float, beta2: Float, stepSize: Float, epsilon: Float) {
    adam_update(portableInstructionSet, parameter, gradient, firstMoment, secondMoment, count, beta1, beta2, stepSize,
                epsilon)
}

/// RMSProp's step on `count` elements (vector_math.c's `rmsprop_update`, on the portable kernels'
/// instruction set): v = ρ·v + (1 − ρ)·g·g, p −= lr·g / √(v + ε) with ε inside the root, else
/// p −= lr·g / (√v + ε); the same bits on every instruction set.
public func rmsPropStep(parameter: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>,
                        meanSquare: UnsafeMutablePointer<Float>, count: Int, rho: Float, learningRate: Float,
                        epsilon: Float, epsilonInsideRoot: Bool) {
    rmsprop_update(portableInstructionSet, parameter, gradient, meanSquare, count, rho, learningRate, epsilon,
                   epsilonInsideRoot ? 1 : 0)
}
