@testable import GAN
import Kernels
import NN
import XCTest

/// `gan-lab bench`'s updates column: the part of each step spent in the optimizers' updates,
/// clocked by wrapping the workload's optimizers, which must leave the training unchanged.
final class BenchmarkUpdateTimeTests: XCTestCase {
    /// A bench runner (its optimizers clocked) trains to the same bits as a trainer on the plain
    /// optimizers, on the same seed, data and steps.
    func testClockedOptimizersTrainAsThePlainOnes() {
        for workload in [BenchmarkWorkload.mlpQuadratic, .mlpGaussian] {
            let runner = trainSideBySide(workload, seed: 7, label: workload.rawValue) { ($0, $1) }
            XCTAssertEqual(runner.trainer.generatorOptimizer.step, 3)
            XCTAssertGreaterThan(runner.updateNanoseconds, 0)
        }
    }

    /// The trainer's updates take each single-use weight's gradient as a pending product, computed
    /// a block at a time inside Adam's update: they train to the same bits as optimizers that
    /// take every gradient computed whole, on one thread and two (mlp-fashion's and mlp-gaussian's
    /// weight gradients are large enough to run in blocks).
    func testUpdatesFromPendingProductsTrainAsFromWholeGradients() {
        defer { resetMatrixThreads() }
        for workload in [BenchmarkWorkload.mlpFashion, .mlpGaussian] {
            for threads in [1, 2] {
                setMatrixThreads(threads)
                trainSideBySide(workload, seed: 9, label: "\(workload.rawValue), \(threads) threads") {
                    (WholeGradients($0), WholeGradients($1))
                }
            }
        }
    }

    /// Three steps of `workload` by a bench runner and by a trainer on the configuration's
    /// optimizers as `wrap` wraps them, from the same seed and batches: the same losses and
    /// parameters to the bit. Returns the runner.
    @discardableResult
    private func trainSideBySide(_ workload: BenchmarkWorkload, seed: UInt64, label: String,
                                 wrap: (Optimizer, Optimizer) -> (Optimizer, Optimizer)) -> WorkloadRunner {
        let runner = WorkloadRunner(workload, seed: seed)
        var random = RandomSource(seed: seed)
        let (generator, discriminator) = workload.models(using: &random)
        let configuration = workload.configuration
        let optimizers = wrap(configuration.generatorOptimizer.make(for: generator.parameters),
                              configuration.discriminatorOptimizer.make(for: discriminator.parameters))
        let trainer = GANTrainer(generator: generator, discriminator: discriminator, latentSize: workload.latentSize,
                                 generatorOptimizer: optimizers.0, discriminatorOptimizer: optimizers.1, configuration: configuration)
        var data = random.split()
        let batches = (0..<4).map { _ in workload.realBatch(using: &data) }
        for step in 0..<3 {
            let losses = runner.step()
            var metrics = StepMetrics()
            trainer.round(realBatch: { _, _ in batches[step % batches.count] }, into: &metrics, using: &random)
            XCTAssertEqual(losses.discriminatorLoss.bitPattern, metrics.discriminatorLoss.bitPattern, label)
            XCTAssertEqual(losses.generatorLoss.bitPattern, metrics.generatorLoss.bitPattern, label)
        }
        let benched = runner.trainer.generator.parameters + runner.trainer.discriminator.parameters
        for (mine, theirs) in zip(benched, trainer.generator.parameters + trainer.discriminator.parameters) {
            XCTAssertEqual(mine.value.scalars.map(\.bitPattern), theirs.value.scalars.map(\.bitPattern), "\(label): \(mine.name)")
        }
        return runner
    }

    /// The wrapper passes the learning rate (a schedule sets it) and the step count through.
    func testClockedOptimizerPassesItsSettingsThrough() {
        let parameter = Parameter(name: "w", value: Tensor(shape: [3], scalars: [1, 2, 3]))
        let adam = Adam(parameters: [parameter], learningRate: 0.1)
        let clocked = TimedOptimizer(adam)
        clocked.learningRate = 0.05
        XCTAssertEqual(adam.learningRate, 0.05)
        clocked.update(with: [Tensor(shape: [3], scalars: [1, -1, 0])])
        XCTAssertEqual(adam.step, 1)
        XCTAssertEqual(clocked.step, 1)
        XCTAssertTrue(clocked.parameters[0] === parameter)
        XCTAssertGreaterThan(clocked.nanoseconds, 0)
    }

    /// Every timed step reports its updates' time, which lies inside the step's.
    func testUpdateTimesAreInsideTheirSteps() {
        let result = runBenchmark(.mlpQuadratic, steps: 5, warmup: 1)
        XCTAssertEqual(result.updateMilliseconds.count, 5)
        for (update, step) in zip(result.updateMilliseconds, result.stepMilliseconds) {
            XCTAssertGreaterThan(update, 0)
            XCTAssertLessThan(update, step)
        }
        let rounds = BenchmarkRounds([result, result])
        XCTAssertEqual(rounds.medianUpdateMilliseconds, result.medianUpdateMilliseconds)
    }
}

/// An optimizer that takes every gradient as a tensor (a pending product computed whole first,
/// the protocol's default), around one that would take pending products a block at a time.
private final class WholeGradients: Optimizer {
    let wrapped: Optimizer
    init(_ wrapped: Optimizer) { self.wrapped = wrapped }
    var parameters: [Parameter] { wrapped.parameters }
    var learningRate: Float {
        get { wrapped.learningRate }
        set { wrapped.learningRate = newValue }
    }
    var step: Int { wrapped.step }
    func update(with gradients: [Tensor]) { wrapped.update(with: gradients) }
}
