import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Recycles tensor buffers by exact size, so a training loop that makes the same shapes every
/// step stops paying for fresh pages (a new large array costs ≈ 10× its arithmetic) and for
/// glibc's handling of blocks above its per-thread cache (1,032 bytes), which sorts its bins on
/// such a request: pooling buffers from 256 elements instead of 4,096 took mlp-quadratic from
/// 0.070–0.072 to 0.069 ms a step (alternating runs). Smaller buffers go straight to malloc,
/// whose per-thread cache is faster than the pool's lock. Pooled buffers start on a cache
/// line (64 bytes): oneDNN's convolutions run up to 7 % slower on buffers 16 bytes off one, where
/// malloc puts large blocks.
///
/// Buffers from 1 MB on (a large layer's weights and their optimizer state, a convolution's
/// activations) start on a 2 MB boundary, span whole 2 MB pages and are offered to Linux's
/// transparent huge pages (`madvise`; the kernel's default policy leaves other memory on 4 KB
/// pages). A product that reads a weight matrix 16 columns at a time then touches one page
/// instead of one per row, and the hardware prefetchers, which stop at page boundaries, run on
/// through Adam's streams. Measured on a two-core Zen 3 in pairs of `gan-lab bench --only …`:
/// mlp-fashion's median step 0.949 and 0.962 of the 4 KB pages' by pair (20 and 30 pairs, each
/// set in the other order), dcgan-mnist's 0.939 (12 pairs, the order alternating from pair to
/// pair), for 4 MB and 58 MB more resident memory; the smaller workloads' buffers stay under 1 MB.
final class BufferPool {
    static let shared = BufferPool()

    /// Buffers of at least this many bytes are laid on huge pages of `hugePageBytes`.
    let hugePageThreshold = 1 << 20
    let hugePageBytes = 2 << 20
    /// Buffers below this many elements (1 KB) are not pooled.
    let smallest = 256
    /// Total bytes the pool may hold idle (as allocated: huge pages' buffers rounded up).
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
            idle.bytes -= allocatedBytes(count)
            return buffer
        }) {
            return buffer
        }
        if count < smallest { return .allocate(capacity: max(count, 1)) }
        #if os(Linux)
        if count * 4 >= hugePageThreshold {
            // Freed as any other buffer (`deallocate` is `free` on Linux). A failed madvise (a
            // kernel without transparent huge pages) leaves 4 KB pages: the same numbers, slower.
            var memory: UnsafeMutableRawPointer?
            if posix_memalign(&memory, hugePageBytes, allocatedBytes(count)) == 0, let memory {
                _ = madvise(memory, allocatedBytes(count), MADV_HUGEPAGE)
                return memory.bindMemory(to: Float.self, capacity: count)
            }
        }
        #endif
        return UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: count)
    }

    /// The bytes a buffer of `count` floats takes: whole huge pages from `hugePageThreshold` on.
    private func allocatedBytes(_ count: Int) -> Int {
        #if os(Linux)
        if count * 4 >= hugePageThreshold { return (count * 4 + hugePageBytes - 1) / hugePageBytes * hugePageBytes }
        #endif
        return count * 4
    }

    func give(_ buffer: UnsafeMutablePointer<Float>, count: Int) {
        let kept = count >= smallest && idle.withLock { idle in
            guard idle.bytes + allocatedBytes(count) <= capacityBytes else { return false }
            idle.buffers[idle.list(of: count)].append(buffer)
            idle.bytes += allocatedBytes(count)
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
