import Synchronization

/// Recycles tensor buffers by exact size, so a training loop that makes the same shapes every
/// step stops paying for fresh pages (a new large array costs ≈ 10× its arithmetic) and for
/// glibc's handling of blocks above its per-thread cache (1,032 bytes), which sorts its bins on
/// such a request: pooling buffers from 256 elements instead of 4,096 took mlp-quadratic from
/// 0.070–0.072 to 0.069 ms a step (alternating runs). Smaller buffers go straight to malloc,
/// whose per-thread cache is faster than the pool's lock. Pooled buffers start on a cache
/// line (64 bytes): oneDNN's convolutions run up to 7 % slower on buffers 16 bytes off one, where
/// malloc puts large blocks.
final class BufferPool {
    static let shared = BufferPool()

    /// Buffers below this many elements (1 KB) are not pooled.
    let smallest = 256
    /// Total bytes the pool may hold idle.
    var capacityBytes = 640 << 20
    /// The idle buffers of each size, the sizes in the order first seen: a training loop makes a
    /// few dozen sizes, which a linear search finds faster than hashing (the dictionary this was
    /// cost mlp-quadratic 1.5 % of its step in hashing alone).
    private struct Idle {
        var bytes = 0
        var sizes: [Int] = []
        var buffers: [[UnsafeMutablePointer<Float>]] = []

        mutating func list(of count: Int) -> Int {
            if let index = sizes.firstIndex(of: count) { return index }
            sizes.append(count)
            buffers.append([])
            return sizes.count - 1
        }
    }
    private let idle = Mutex(Idle())

    func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count >= smallest, let buffer = idle.withLock({ idle -> UnsafeMutablePointer<Float>? in
            guard let index = idle.sizes.firstIndex(of: count), let buffer = idle.buffers[index].popLast() else { return nil }
            idle.bytes -= count * 4
            return buffer
        }) {
            return buffer
        }
        if count < smallest { return .allocate(capacity: max(count, 1)) }
        return UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: count)
    }

    func give(_ buffer: UnsafeMutablePointer<Float>, count: Int) {
        let kept = count >= smallest && idle.withLock { idle in
            guard idle.bytes + count * 4 <= capacityBytes else { return false }
            idle.buffers[idle.list(of: count)].append(buffer)
            idle.bytes += count * 4
            return true
        }
        if !kept { buffer.deallocate() }
    }

    /// Frees every idle buffer.
    func drain() {
        let buffers = idle.withLock { idle in
            defer { idle = Idle() }
            return idle.buffers.flatMap { $0 }
        }
        for buffer in buffers { buffer.deallocate() }
    }
}

/// Frees the idle buffers kept for reuse (call between unrelated workloads).
public func releaseIdleBuffers() { BufferPool.shared.drain() }
