import Synchronization

/// Shared, contiguous Float storage of a `Tensor`; copied only when a shared tensor is mutated.
/// A convolution on oneDNN may leave its result in oneDNN's 16-channel blocked layout instead
/// (`ChannelBlocks`), where the next convolution, dropout and the gradients read it as it is;
/// the plain elements are then made from the blocks the first time anything asks for `pointer`.
public final class TensorStorage: @unchecked Sendable {
    public let count: Int
    /// The plain elements when they were made at the start (every storage but a blocked one).
    @usableFromInline let plainAtStart: UnsafeMutablePointer<Float>?
    /// The blocks of a storage written in the blocked layout, and its plain elements once made.
    @usableFromInline let blocked: BlockedElements?

    init(count: Int) {
        self.count = count
        plainAtStart = BufferPool.shared.take(count)
        blocked = nil
    }

    /// Room for a tensor of `shape` [N, C, …] in the blocked layout (C a multiple of 16).
    init(channelBlocksOf shape: [Int]) {
        count = shape.reduce(1, *)
        plainAtStart = nil
        blocked = BlockedElements(ChannelBlocks(pointer: BufferPool.shared.take(count), shape: shape))
    }

    /// The plain (row-major) elements.
    @inlinable public var pointer: UnsafeMutablePointer<Float> {
        if let plainAtStart { return plainAtStart }
        return blocked!.plain()
    }

    /// The elements in the blocked layout, when they were written that way.
    public var blocks: ChannelBlocks? { blocked?.blocks }

    deinit { if let plainAtStart { BufferPool.shared.give(plainAtStart, count: count) } }
}

/// A storage's channel blocks and the plain elements made from them on first use (by one
/// thread; any other asking meanwhile waits for them).
@usableFromInline final class BlockedElements: @unchecked Sendable {
    let blocks: ChannelBlocks
    private let madePlain = Atomic<Int>(0)
    private let making = Mutex(())

    init(_ blocks: ChannelBlocks) { self.blocks = blocks }

    @usableFromInline func plain() -> UnsafeMutablePointer<Float> {
        if let made = UnsafeMutablePointer<Float>(bitPattern: madePlain.load(ordering: .acquiring)) { return made }
        return making.withLock { _ in
            if let made = UnsafeMutablePointer<Float>(bitPattern: madePlain.load(ordering: .acquiring)) { return made }
            let count = blocks.shape.reduce(1, *), plain = BufferPool.shared.take(count)
            blocks.copy(into: plain)
            madePlain.store(Int(bitPattern: plain), ordering: .releasing)
            return plain
        }
    }

    deinit {
        let count = blocks.shape.reduce(1, *)
        BufferPool.shared.give(blocks.pointer, count: count)
        if let made = UnsafeMutablePointer<Float>(bitPattern: madePlain.load(ordering: .relaxed)) {
            BufferPool.shared.give(made, count: count)
        }
    }
}

/// A dense, row-major Float array with a shape, copy-on-write (NCHW for images).
public struct Tensor {
    public private(set) var shape: [Int]
    public private(set) var storage: TensorStorage

    /// An uninitialised tensor in oneDNN's 16-channel blocked layout (`ChannelBlocks`; every
    /// element is written by the caller, through `channelBlocks`).
    public init(uninitializedChannelBlocksOf shape: [Int]) {
        precondition(ChannelBlocks.fits(shape), "no 16-channel blocks for shape \(shape)")
        self.shape = shape
        storage = TensorStorage(channelBlocksOf: shape)
    }

    /// The elements in the 16-channel blocked layout, when the storage holds them so for this shape.
    public var channelBlocks: ChannelBlocks? {
        guard let blocks = storage.blocks, blocks.shape == shape else { return nil }
        return blocks
    }

    /// An uninitialised tensor (every element is written by the caller).
    public init(uninitializedShape shape: [Int]) {
        self.shape = shape
        storage = TensorStorage(count: shape.reduce(1, *))
    }

    /// A tensor of `shape` filled with `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        self.init(uninitializedShape: shape)
        storage.pointer.update(repeating: value, count: storage.count)
    }

    /// A tensor of `shape` holding `scalars` in row-major order.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.reduce(1, *) == scalars.count, "shape \(shape) does not hold \(scalars.count) scalars")
        self.init(uninitializedShape: shape)
        scalars.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: $0.count) }
    }

    /// A scalar (rank-0) tensor.
    public init(_ value: Float) { self.init(shape: [], repeating: value) }

    public var count: Int { storage.count }
    public var rank: Int { shape.count }
    public var scalars: [Float] { Array(UnsafeBufferPointer(start: storage.pointer, count: count)) }
    /// The only element of a one-element tensor.
    public var scalar: Float {
        precondition(count == 1, "scalar of a tensor with \(count) elements")
        return storage.pointer[0]
    }

    /// Read-only access to the elements.
    @inline(__always)
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// The one mutation gate: copies the storage first if another tensor shares it, or if it
    /// holds blocks (which stay as they were written).
    @inline(__always)
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        if !isKnownUniquelyReferenced(&storage) || storage.blocked != nil {
            let copy = TensorStorage(count: count)
            copy.pointer.update(from: storage.pointer, count: count)
            storage = copy
        }
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    }

    /// The elements' address for writing, past the mutation gate above (the storage copied first
    /// if another tensor shares it); valid while this tensor keeps its storage.
    public mutating func uniqueMutablePointer() -> UnsafeMutablePointer<Float> {
        withUnsafeMutableBufferPointer { _ in }
        return storage.pointer
    }

    /// The same elements under another shape with the same element count.
    public func reshaped(to newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        var result = self
        result.shape = newShape
        return result
    }

    public subscript(index: Int) -> Float {
        get { storage.pointer[index] }
        set { withUnsafeMutableBufferPointer { $0[index] = newValue } }
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor(\(shape): [\(shown)\(count > 8 ? ", …" : "")])"
    }
}
