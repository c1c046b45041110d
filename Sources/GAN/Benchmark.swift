import Foundation
import Kernels
import NN

/// What `gan-lab bench` measured for one workload.
public struct BenchmarkResult {
    public let workload: BenchmarkWorkload
    public let stepMilliseconds: [Double]
    /// The part of each timed step spent in the optimizers' updates.
    public let updateMilliseconds: [Double]
    /// Timed steps divided by their total time.
    public let stepsPerSecond: Double

    public var medianMilliseconds: Double { median(stepMilliseconds) }
    public var medianUpdateMilliseconds: Double { median(updateMilliseconds) }
    public var fastestMilliseconds: Double { stepMilliseconds.min() ?? 0 }
}

/// One workload's benchmark repeated in rounds (run interleaved with the other workloads', so
/// that a drift in the machine's speed shows as a spread instead of biasing one workload).
public struct BenchmarkRounds {
    public let rounds: [BenchmarkResult]

    public init(_ rounds: [BenchmarkResult]) {
        precondition(!rounds.isEmpty, "a benchmark needs at least one round")
        self.rounds = rounds
    }

    public var workload: BenchmarkWorkload { rounds[0].workload }
    /// Each round's median step time, in the order the rounds ran.
    public var roundMedians: [Double] { rounds.map(\.medianMilliseconds) }
    /// The median of the rounds' median step times.
    public var medianMilliseconds: Double { median(roundMedians) }
    public var fastestMilliseconds: Double { rounds.map(\.fastestMilliseconds).min()! }
    /// The median of the rounds' median times a step spent in the optimizers' updates.
    public var medianUpdateMilliseconds: Double { median(rounds.map(\.medianUpdateMilliseconds)) }
    public var stepsPerSecond: Double { median(rounds.map(\.stepsPerSecond)) }
    /// The lowest and highest of the rounds' median step times.
    public var spread: ClosedRange<Double> { roundMedians.min()!...roundMedians.max()! }
    /// Achieved GFLOP/s of the products and convolutions at the median step.
    public var gigaflopsPerSecond: Double { workload.flopsPerStep / medianMilliseconds / 1e6 }
}

/// Times `steps` steps of `workload` after `warmup` untimed ones, each step timed alone.
public func runBenchmark(_ workload: BenchmarkWorkload, steps: Int, warmup: Int, seed: UInt64 = 0) -> BenchmarkResult {
    let runner = WorkloadRunner(workload, seed: seed)
    for _ in 0..<warmup { runner.step() }
    var times: [Double] = [], updateTimes: [Double] = []
    let started = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<steps {
        let updatesBefore = runner.updateNanoseconds
        let start = DispatchTime.now().uptimeNanoseconds
        runner.step()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        updateTimes.append(Double(runner.updateNanoseconds - updatesBefore) / 1e6)
    }
    let total = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    return BenchmarkResult(workload: workload, stepMilliseconds: times, updateMilliseconds: updateTimes,
                           stepsPerSecond: Double(steps) / max(total, 1e-9))
}

/// An optimizer that clocks its updates and passes everything to the one it wraps (the bench's
/// updates column: the updates stream every parameter and its state through memory, and on the
/// portable kernels compute the large Dense layers' weight gradients inside, a block at a time).
final class TimedOptimizer: Optimizer {
    let timed: Optimizer
    private(set) var nanoseconds: UInt64 = 0

    init(_ timed: Optimizer) { self.timed = timed }

    var parameters: [Parameter] { timed.parameters }
    var learningRate: Float {
        get { timed.learningRate }
        set { timed.learningRate = newValue }
    }
    var step: Int { timed.step }

    func update(with gradients: [Tensor]) { clocked { timed.update(with: gradients) } }
    func update(with gradients: [ParameterGradient]) { clocked { timed.update(with: gradients) } }

    private func clocked(_ update: () -> Void) {
        let start = DispatchTime.now().uptimeNanoseconds
        update()
        nanoseconds += DispatchTime.now().uptimeNanoseconds - start
    }
}

/// The process's peak resident memory in bytes (VmHWM), or nil where /proc is missing.
public func peakResidentBytes() -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
    return kilobytes * 1024
}

func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}
