import Kernels
import XCTest

final class ParallelTests: XCTestCase {
    struct Failure: Error, Equatable { let job: Int }

    func testEveryJobRunsOnceAndCompletesOneAtATime() throws {
        for threads in [1, 2, 3] {
            var done: [Int] = [], inside = 0, overlapped = false
            try forEachJob(37, threads: threads, { job in job * job }, completed: { job, square in
                inside += 1
                if inside > 1 { overlapped = true }
                XCTAssertEqual(square, job * job)
                done.append(job)
                inside -= 1
            })
            XCTAssertEqual(done.sorted(), Array(0..<37), "threads \(threads)")
            XCTAssertFalse(overlapped, "completions overlapped with \(threads) threads")
            if threads == 1 { XCTAssertEqual(done, Array(0..<37), "one thread runs the jobs in order") }
        }
    }

    /// Jobs side by side run their products on one thread each; the settings come back afterwards.
    func testJobsRunProductsOnOneThreadAndRestoreTheSettings() throws {
        setMatrixThreads(2)
        defer { resetMatrixThreads() }
        var inside: [Int] = []
        try forEachJob(4, threads: 2, { _ in matrixThreads() }, completed: { inside.append($1) })
        XCTAssertEqual(inside, [1, 1, 1, 1])
        XCTAssertEqual(matrixThreads(), 2)
    }

    func testTheFirstErrorStopsFurtherJobsAndIsRethrown() {
        var completed = 0
        XCTAssertThrowsError(try forEachJob(1000, threads: 2, { job -> Int in
            if job == 3 { throw Failure(job: 3) }
            return job
        }, completed: { _, _ in completed += 1 })) { error in
            XCTAssertEqual(error as? Failure, Failure(job: 3))
        }
        XCTAssertLessThan(completed, 999, "jobs went on starting after the failure")
    }
}
