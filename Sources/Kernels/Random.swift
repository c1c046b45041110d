import CMicroKernels

/// The lab's one seeded random generator (SplitMix64). Floats are made from raw bits,
/// so golden outputs do not depend on the standard library's random algorithms.
public struct RandomSource {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    @inline(__always)
    public mutating func nextBits() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The generator `draws` calls of `nextBits` from now (SplitMix64 counts: a jump is one
    /// multiply–add), so slices of one stream can be drawn side by side.
    public func skipping(_ draws: Int) -> RandomSource {
        RandomSource(seed: state &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(draws))
    }

    /// Uniform in [0, 1) with 53 random bits.
    @inline(__always)
    public mutating func nextUnit() -> Double { Double(nextBits() >> 11) * 0x1.0p-53 }

    /// Shuffles `items` in place (Fisher–Yates from the last element down).
    public mutating func shuffle<T>(_ items: inout [T]) {
        for i in stride(from: items.count - 1, to: 0, by: -1) { items.swapAt(i, index(below: i + 1)) }
    }

    /// Uniform in [low, high).
    @inline(__always)
    public mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * nextUnit() }

    /// Standard normal (Box–Muller, one value per call).
    public mutating func normal() -> Double {
        let u1 = 1 - nextUnit()  // (0, 1]
        let u2 = nextUnit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// Uniform integer in 0..<bound.
    public mutating func index(below bound: Int) -> Int { Int(nextBits() % UInt64(bound)) }

    /// An independent generator derived from this one (for a layer or a data stream).
    public mutating func split() -> RandomSource { RandomSource(seed: nextBits()) }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Tensor {
    /// Elements uniform in [low, high).
    /// Element i is `Float(random.uniform(low, high))` at the i-th call (vector_math.c's
    /// `uniform_fill`, the same bits on every instruction set), and `random` moves on past them.
    public static func uniform(shape: [Int], low: Float, high: Float, using random: inout RandomSource) -> Tensor {
        let result = Tensor(uninitializedShape: shape)
        let count = result.count
        uniform_fill(portableInstructionSet, result.storage.pointer, count, random.state, Double(low), Double(high) - Double(low))
        random = random.skipping(count)
        return result
    }

    /// Elements drawn from N(mean, std²).
    public static func normal(shape: [Int], mean: Float = 0, std: Float = 1, using random: inout RandomSource) -> Tensor {
        var result = Tensor(uninitializedShape: shape)
        result.withUnsafeMutableBufferPointer { buffer in
            for i in buffer.indices { buffer[i] = mean + std * Float(random.normal()) }
        }
        return result
    }
}
