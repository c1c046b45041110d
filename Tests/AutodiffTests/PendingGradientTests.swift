import Autodiff
import Kernels
import NN
import XCTest

/// `gradientsForUpdate` leaves a weight used by one layer its gradient as a pending product, and
/// Adam updates from it a block at a time: the same numbers as the gradients computed whole.
final class PendingGradientTests: XCTestCase {
    override func tearDown() { resetMatrixThreads() }

    /// A three-layer MLP at mlp-fashion's discriminator's sizes: each weight's gradient stays a
    /// pending product (the biases' are tensors), and every one equals `gradients(of:at:)`'s to the
    /// bit. Layers applied twice (one D on a real and a fake batch) get tensors, the same sum.
    func testSingleUseWeightsGetPendingProductsWithTheSameBits() {
        var random = RandomSource(seed: 41)
        let parameters = mlp(using: &random)
        let x = Tensor.uniform(shape: [64, 784], low: -1, high: 1, using: &random)
        let other = Tensor.uniform(shape: [64, 784], low: -1, high: 1, using: &random)
        for threads in [1, 2] {
            setMatrixThreads(threads)
            let leaves = parameters.map { Variable.leaf($0) }
            let once = discriminate(Variable(x), leaves).tanh().sum()
            let pending = gradientsForUpdate(of: once, at: leaves), whole = gradients(of: once, at: leaves)
            for (index, gradient) in pending.enumerated() {
                if case .pending = gradient { XCTAssertTrue(index % 2 == 0, "a bias's gradient left pending") } else {
                    XCTAssertTrue(index % 2 == 1, "weight \(index / 2)'s gradient computed whole, \(threads) threads")
                }
                XCTAssertEqual(gradient.tensor.scalars.map(\.bitPattern), whole[index].scalars.map(\.bitPattern),
                               "gradient \(index), \(threads) threads")
            }
            let twice = (discriminate(Variable(x), leaves).tanh().sum() + discriminate(Variable(other), leaves).sigmoid().sum())
            let summed = gradientsForUpdate(of: twice, at: leaves), reference = gradients(of: twice, at: leaves)
            for (index, gradient) in summed.enumerated() {
                guard case .tensor(let tensor) = gradient else { return XCTFail("gradient \(index) of a layer used twice left pending") }
                XCTAssertEqual(tensor.scalars.map(\.bitPattern), reference[index].scalars.map(\.bitPattern), "gradient \(index)")
            }
        }
    }

    /// Adam from pending products (their blocks, on one and two threads) and Adam from the same
    /// gradients as tensors leave the same parameters and moments, step after step.
    func testAdamFromPendingProductsMatchesAdamFromTensors() {
        var random = RandomSource(seed: 42)
        let start = mlp(using: &random)
        let batches = (0..<3).map { _ in Tensor.uniform(shape: [64, 784], low: -1, high: 1, using: &random) }
        for threads in [1, 2] {
            setMatrixThreads(threads)
            let fused = start.enumerated().map { Parameter(name: "p\($0)", value: $1) }
            let plain = start.enumerated().map { Parameter(name: "p\($0)", value: $1) }
            let fusedAdam = Adam(parameters: fused, learningRate: 2e-4, beta1: 0.5)
            let plainAdam = Adam(parameters: plain, learningRate: 2e-4, beta1: 0.5)
            for batch in batches {
                let pending = { () -> [ParameterGradient] in
                    let leaves = fused.map(\.variable)
                    return gradientsForUpdate(of: discriminate(Variable(batch), leaves).tanh().sum(), at: leaves)
                }()
                XCTAssertEqual(pending.filter { if case .pending = $0 { true } else { false } }.count, 3)
                fusedAdam.update(with: pending)
                let whole = { () -> [Tensor] in
                    let leaves = plain.map(\.variable)
                    return gradients(of: discriminate(Variable(batch), leaves).tanh().sum(), at: leaves)
                }()
                plainAdam.update(with: whole)
            }
            XCTAssertEqual(fusedAdam.step, 3)
            for index in start.indices {
                XCTAssertEqual(fused[index].value.scalars.map(\.bitPattern), plain[index].value.scalars.map(\.bitPattern),
                               "parameter \(index), \(threads) threads")
                for name in fusedAdam.stateNames {
                    XCTAssertEqual(fusedAdam.state(name, of: index).scalars.map(\.bitPattern),
                                   plainAdam.state(name, of: index).scalars.map(\.bitPattern), "\(name) \(index)")
                }
                XCTAssertNotEqual(fused[index].value.scalars, start[index].scalars, "parameter \(index) never moved")
            }
        }
    }

    /// Weights and biases of 784 → 512 → 256 → 1 (mlp-fashion's discriminator).
    private func mlp(using random: inout RandomSource) -> [Tensor] {
        [[512, 784], [512], [256, 512], [256], [1, 256], [1]].map { Tensor.uniform(shape: $0, low: -0.05, high: 0.05, using: &random) }
    }

    private func discriminate(_ x: Variable, _ p: [Variable]) -> Variable {
        let hidden = linear(linear(x, p[0], bias: p[1], negativeSlope: 0.2), p[2], bias: p[3], negativeSlope: 0.2)
        return linear(hidden, p[4], bias: p[5])
    }
}
