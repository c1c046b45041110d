#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Recycles large tensor buffers by exact size, so a training loop that makes the same shapes
/// every step stops paying for fresh pages (a new large array costs ≈ 10× its arithmetic).
/// Small buffers go straight to malloc, which is fast for them.
final class BufferPool {
    static let shared = BufferPool()

    /// Buffers below this many elements are not pooled.
    let smallest = 4096
    /// Total bytes the pool may hold idle.
    var capacityBytes = 640 << 20
    private(set) var idleBytes = 0
    private var idle: [Int: [UnsafeMutablePointer<Float>]] = [:]
    private let lock: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        lock = .allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
    }

    func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count >= smallest {
            pthread_mutex_lock(lock)
            if let buffer = idle[count]?.popLast() {
                idleBytes -= count * 4
                pthread_mutex_unlock(lock)
                return buffer
            }
            pthread_mutex_unlock(lock)
        }
        return .allocate(capacity: max(count, 1))
    }

    func give(_ buffer: UnsafeMutablePointer<Float>, count: Int) {
        if count >= smallest {
            pthread_mutex_lock(lock)
            if idleBytes + count * 4 <= capacityBytes {
                idle[count, default: []].append(buffer)
                idleBytes += count * 4
                pthread_mutex_unlock(lock)
                return
            }
            pthread_mutex_unlock(lock)
        }
        buffer.deallocate()
    }

    /// Frees every idle buffer.
    func drain() {
        pthread_mutex_lock(lock)
        for buffers in idle.values { for buffer in buffers { buffer.deallocate() } }
        idle = [:]
        idleBytes = 0
        pthread_mutex_unlock(lock)
    }
}

/// Frees the idle buffers kept for reuse (call between unrelated workloads).
public func releaseIdleBuffers() { BufferPool.shared.drain() }
