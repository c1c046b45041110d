import CMicroKernels
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Threads the lab's products, convolutions and slices use (`setMatrixThreads`).
nonisolated(unsafe) var loopThreads = 1

/// A pointer that may cross into worker threads (each worker writes a disjoint part of the buffer).
public struct SharedPointer<T>: @unchecked Sendable {
    public let base: UnsafeMutablePointer<T>

    public init(base: UnsafeMutablePointer<T>) { self.base = base }
}

/// The fewest elements a thread's slice of a maths-library loop (exp, log) gets: about
/// 0.1 ms of work, well above the cost of waking a thread.
let librarySlice = 1 << 13

/// The fewest elements a thread's slice of a vector_math.c map (softplus, tanh) gets: about
/// 1–1.5 ns an element on AVX-512, so about 16–25 µs of work.
let vectorMathSlice = 1 << 14

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
        parallelFor(slices) { slice in
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
            parallelFor(workers) { _ in
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

/// Runs `body(0)`, …, `body(count − 1)` at the same time: `body(0)` on this thread, the others on
/// the lab's worker threads (or on this thread, any a worker has not claimed when this thread is
/// free again), and returns when all have returned. A call made inside a running
/// body, or while another thread is using the workers, runs its bodies here, one after another
/// (every caller's numbers are the same however its calls are spread). The workers wait for the
/// next call spinning for a while before they sleep: the products and loops of a training step
/// come microseconds apart, and waking a sleeping thread costs more than most of them take
/// (`DispatchQueue.concurrentPerform` woke one for every call).
public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
    if count <= 1 {
        if count == 1 { body(0) }
        return
    }
    if !WorkerPool.shared.run(count, body) {
        for index in 0..<count { body(index) }
    }
}

/// The lab's worker threads (made when first needed, as many as the widest call asked for, less
/// one: the caller runs a share too). One call at a time; a call is published as a new
/// generation with its width, and its indices are claimed one at a time by whoever is free: the
/// caller takes index 0, then every worker below the width and the caller again claim the next
/// unclaimed index until none is left. The caller then waits only for the bodies others claimed
/// (so the body outlives every use), never for a worker that has not started: when the other
/// core is busy and a worker is late, the caller runs its share instead of waiting for it (one
/// core busy with another program took mlp-gaussian from 1.27 to 8.4–8.7 ms a step when each
/// worker had its own index).
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// Spinning this long (nanoseconds) for the next call or for the workers to finish, then sleeping.
    private static let spinNanoseconds: UInt64 = 200_000

    private let inUse = Atomic<Bool>(false)
    /// generation << 16 | width of the current call.
    private let published = Atomic<Int>(0)
    /// generation << 16 | the current call's next unclaimed index.
    private let claims = Atomic<Int>(0)
    /// Bodies of the current call that workers have run.
    private let finished = Atomic<Int>(0)
    /// Threads asleep in `wait`: workers waiting for a call, and a caller waiting for the bodies workers claimed.
    private let sleepingWorkers = Atomic<Int>(0)
    private let sleepingCallers = Atomic<Int>(0)
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let workCondition: UnsafeMutablePointer<pthread_cond_t>
    private let doneCondition: UnsafeMutablePointer<pthread_cond_t>
    /// The body of the current call; written only while no worker of the previous call runs.
    private nonisolated(unsafe) var body: ((Int) -> Void)?
    private var workers = 0

    private init() {
        mutex = .allocate(capacity: 1)
        workCondition = .allocate(capacity: 1)
        doneCondition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(workCondition, nil)
        pthread_cond_init(doneCondition, nil)
    }

    /// Runs the call on the workers, or returns false when they are taken (the caller then runs it).
    func run(_ count: Int, _ body: (Int) -> Void) -> Bool {
        guard count < 1 << 16, inUse.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            return false
        }
        defer { inUse.store(false, ordering: .releasing) }
        while workers < count - 1 { startWorker(index: workers + 1) }
        withoutActuallyEscaping(body) { body in
            self.body = body
            finished.store(0, ordering: .relaxed)
            let generation = (published.load(ordering: .relaxed) >> 16) + 1
            claims.store(generation << 16 | 1, ordering: .sequentiallyConsistent)  // index 0 is the caller's
            published.store(generation << 16 | count, ordering: .sequentiallyConsistent)
            wake(sleepingWorkers, on: workCondition)
            body(0)
            var ranHere = 1
            while let index = claim(in: generation, width: count) {
                body(index)
                ranHere += 1
            }
            let ranElsewhere = count - ranHere
            wait(until: { finished.load(ordering: .sequentiallyConsistent) >= ranElsewhere }, sleepers: sleepingCallers,
                 on: doneCondition)
            self.body = nil
        }
        return true
    }

    /// The next unclaimed index of call `generation`, claimed for the calling thread, or nil when
    /// every index is taken or that call is over.
    private func claim(in generation: Int, width: Int) -> Int? {
        var word = claims.load(ordering: .sequentiallyConsistent)
        while word >> 16 == generation && word & 0xFFFF < width {
            let (exchanged, original) = claims.compareExchange(expected: word, desired: word + 1, ordering: .sequentiallyConsistent)
            if exchanged { return word & 0xFFFF }
            word = original
        }
        return nil
    }

    /// Waits until `ready()` holds: spinning for `spinNanoseconds`, then asleep on `condition`,
    /// counted in `sleepers` while asleep so that whoever makes `ready()` true wakes it (`wake`).
    /// `ready` reads with sequentially consistent loads, and `sleepers` is counted before the last
    /// look: either the waker sees the sleeper, or the sleeper sees what the waker did.
    private func wait(until ready: () -> Bool, sleepers: borrowing Atomic<Int>, on condition: UnsafeMutablePointer<pthread_cond_t>) {
        let start = DispatchTime.now().uptimeNanoseconds
        var spins = 0
        while !ready() {
            cpu_relax()
            spins += 1
            guard spins & 63 == 0, DispatchTime.now().uptimeNanoseconds - start > Self.spinNanoseconds else { continue }
            pthread_mutex_lock(mutex)
            sleepers.add(1, ordering: .sequentiallyConsistent)
            while !ready() { pthread_cond_wait(condition, mutex) }
            sleepers.subtract(1, ordering: .sequentiallyConsistent)
            pthread_mutex_unlock(mutex)
            return
        }
    }

    /// Wakes the threads `wait` put to sleep on `condition`, once what they wait for holds.
    private func wake(_ sleepers: borrowing Atomic<Int>, on condition: UnsafeMutablePointer<pthread_cond_t>) {
        guard sleepers.load(ordering: .sequentiallyConsistent) > 0 else { return }
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    private func startWorker(index: Int) {
        let context = Unmanaged.passRetained(WorkerContext(pool: self, index: index)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { context in
            let worker = Unmanaged<WorkerContext>.fromOpaque(context!).takeRetainedValue()
            worker.pool.work(index: worker.index)
            return nil
        }, context)
        if status != 0 { fatalError("cannot start a worker thread (error \(status))") }
        pthread_detach(thread)
        workers += 1
    }

    /// A worker's life: wait for a generation it has not seen; if the call is wide enough to
    /// count this worker in, run the indices it can claim, each counted as finished; forever.
    /// The body is read only under a claim, which the caller waits for.
    private func work(index: Int) {
        var seen = 0
        while true {
            let state = nextCall(after: seen)
            seen = state >> 16
            guard index < state & 0xFFFF else { continue }
            while let claimed = claim(in: seen, width: state & 0xFFFF) {
                body!(claimed)
                finished.add(1, ordering: .sequentiallyConsistent)
                wake(sleepingCallers, on: doneCondition)
            }
        }
    }

    /// The next call's published word (generation << 16 | width), once its generation is not `seen`.
    private func nextCall(after seen: Int) -> Int {
        var state = 0
        wait(until: { state = published.load(ordering: .sequentiallyConsistent); return state >> 16 != seen },
             sleepers: sleepingWorkers, on: workCondition)
        return state
    }
}

private final class WorkerContext {
    let pool: WorkerPool
    let index: Int

    init(pool: WorkerPool, index: Int) { (self.pool, self.index) = (pool, index) }
}
