import Dispatch
import Synchronization

/// Threads the lab's products, convolutions and slices use (`setMatrixThreads`).
nonisolated(unsafe) var loopThreads = 1

/// A pointer that may cross into worker threads (each worker writes a disjoint part of the buffer).
public struct SharedPointer<T>: @unchecked Sendable {
    public let base: UnsafeMutablePointer<T>

    public init(base: UnsafeMutablePointer<T>) { self.base = base }
}

/// The fewest elements a thread's slice of a maths-library loop (tanh, exp, log) gets: about
/// 0.1 ms of work, well above the cost of waking a thread.
let librarySlice = 1 << 13

/// Runs `body(range)` on disjoint slices of 0..<count, one per thread of the lab's thread count,
/// when every slice gets at least `minimumSlice` items; otherwise `body(0..<count)` on this
/// thread. For elementwise loops, whose numbers do not depend on the slicing.
public func forEachSlice(_ count: Int, minimumSlice: Int, _ body: (Range<Int>) -> Void) {
    let slices = min(loopThreads, count / max(minimumSlice, 1))
    if slices <= 1 {
        body(0..<count)
        return
    }
    let kernels = activeProductKernels
    withoutActuallyEscaping(body) { body in
        let task = SliceTask(body: body)
        DispatchQueue.concurrentPerform(iterations: slices) { slice in
            withProductKernels(kernels) { task.body(count * slice / slices..<count * (slice + 1) / slices) }
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
/// no job may change it under another), so a job's numbers do not depend on `threads`. Jobs run
/// on the caller's product kernels, and one may change its own (`withProductKernels`) without
/// changing another's.
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
    let kernels = activeProductKernels  // the jobs run on their caller's kernels
    try withoutActuallyEscaping(job) { job in
        try withoutActuallyEscaping(completed) { completed in
            let work = JobWork(job: job, completed: completed)
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                while let index = queue.next() {
                    do {
                        let result = try withProductKernels(kernels) { try work.job(index) }
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

/// The shared state of `forEachJob`: the next job and the first error, behind one lock that
/// also serialises the completion callbacks.
private final class JobQueue: @unchecked Sendable {
    private struct State {
        var next = 0
        var error: Error?
    }
    private let state = Mutex(State())
    private let count: Int

    init(count: Int) { self.count = count }

    var error: Error? { state.withLock { $0.error } }

    func locked<T>(_ body: () -> T) -> T { state.withLock { _ in body() } }

    /// The next job to run, or nil when all have started or one has failed.
    func next() -> Int? {
        state.withLock { state in
            guard state.error == nil, state.next < count else { return nil }
            defer { state.next += 1 }
            return state.next
        }
    }

    func fail(_ error: Error) { state.withLock { if $0.error == nil { $0.error = error } } }
}
