import XCTest
@testable import Charts

final class BenchmarkTests: XCTestCase {
    /// Runs the benchmark once so it keeps working; timings are printed, not asserted.
    func testBenchmarkRuns() {
        let timings = benchmarkCharts(repetitions: 3)
        XCTAssertEqual(timings.count, 4)
        for timing in timings {
            XCTAssertGreaterThan(timing.bestMilliseconds, 0)
            print(timing)
        }
    }
}
