import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Threads the lab's products, convolutions and slices use (`setMatrixThreads`).
nonisolated(unsafe) var loopThreads = 1

/// A pointer that may cross into worker threads (each worker writes a disjoint part of the buffer).
struct SharedPointer<T>: @unchecked Sendable {
    let base: UnsafeMutablePointer<T>
}

/// Runs `body(range)` on disjoint slices of 0..<count, one per thread of the lab's thread count,
/// when every slice gets at least `minimumSlice` items; otherwise `body(0..<count)` on this
/// thread. For elementwise loops, whose numbers do not depend on the slicing.
public func forEachSlice(_ count: Int, minimumSlice: Int, _ body: (Range<Int>) -> Void) {
    let slices = min(loopThreads, count / max(minimumSlice, 1))
    if slices <= 1 {
        body(0..<count)
        return
    }
    withoutActuallyEscaping(body) { body in
        let task = SliceTask(body: body)
        DispatchQueue.concurrentPerform(iterations: slices) { slice in
            task.body(count * slice / slices..<count * (slice + 1) / slices)
        }
    }
}

private struct SliceTask: @unchecked Sendable {
    let body: (Range<Int>) -> Void
}

/// Runs the independent jobs `0..<count` on up to `threads` threads; each thread takes the
/// next job as it finishes one. `completed(job, result)` is called for every job, one call at a
/// time, in the order the jobs finish. The first error thrown stops further jobs from starting
/// and is rethrown once the running ones are done. Jobs must not share mutable state. Every job
/// runs its matrix products and loops on its own thread (the thread setting is process-wide, so
/// no job may change it under another), so a job's numbers do not depend on `threads`.
public func forEachJob<Result>(_ count: Int, threads: Int, _ job: (Int) throws -> Result,
                               completed: (Int, Result) -> Void) throws {
    let workers = max(1, min(threads, count))
    let savedThreads = loopThreads
    loopThreads = 1
    defer { loopThreads = savedThreads }
    if workers == 1 {
        for index in 0..<count { completed(index, try job(index)) }
        return
    }
    let queue = JobQueue(count: count)
    try withoutActuallyEscaping(job) { job in
        try withoutActuallyEscaping(completed) { completed in
            let work = JobWork(job: job, completed: completed)
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                while let index = queue.next() {
                    do {
                        let result = try work.job(index)
                        queue.locked { work.completed(index, result) }
                    } catch {
                        queue.fail(error)
                    }
                }
            }
            if let error = queue.error { throw error }
        }
    }
}

private struct JobWork<Result>: @unchecked Sendable {
    let job: (Int) throws -> Result
    let completed: (Int, Result) -> Void
}

/// The shared state of `forEachJob`: the next job, the first error, and a lock for callbacks.
private final class JobQueue: @unchecked Sendable {
    private var nextIndex = 0
    private let count: Int
    private(set) var error: Error?
    private let lock: UnsafeMutablePointer<pthread_mutex_t>

    init(count: Int) {
        self.count = count
        lock = .allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
    }

    deinit {
        pthread_mutex_destroy(lock)
        lock.deallocate()
    }

    func locked<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return try body()
    }

    /// The next job to run, or nil when all have started or one has failed.
    func next() -> Int? {
        locked {
            guard error == nil, nextIndex < count else { return nil }
            defer { nextIndex += 1 }
            return nextIndex
        }
    }

    func fail(_ error: Error) { locked { if self.error == nil { self.error = error } } }
}
