import Dispatch

/// Threads used by the lab's own parallel loops (set with the matrix threads).
nonisolated(unsafe) var loopThreads = 1

/// A pointer that may cross into the worker threads of `parallelFor` (each worker writes a
/// disjoint part of the buffer).
struct SharedPointer<T>: @unchecked Sendable {
    let base: UnsafeMutablePointer<T>
}

/// Runs `body(range)` on `loopThreads` disjoint parts of 0..<count, in parallel when the work
/// (`count · costPerItem` elements touched) is large enough to pay for waking a thread.
func parallelFor(_ count: Int, costPerItem: Int, _ body: (Range<Int>) -> Void) {
    let threads = min(loopThreads, count)
    if threads <= 1 || count * costPerItem < 1 << 16 {
        body(0..<count)
        return
    }
    withoutActuallyEscaping(body) { body in
        let task = ParallelTask(body: body)
        DispatchQueue.concurrentPerform(iterations: threads) { part in
            let lower = count * part / threads, upper = count * (part + 1) / threads
            task.body(lower..<upper)
        }
    }
}

private struct ParallelTask: @unchecked Sendable {
    let body: (Range<Int>) -> Void
}
