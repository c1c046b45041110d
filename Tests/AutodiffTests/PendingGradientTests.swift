import Autodiff
import Kernels
import NN
import XCTest

/// `gradientsForUpdate` leaves a layer's weight its gradient as a pending product (a sum of them
/// for a layer applied more than once), and Adam updates from it a block at a time: the same
/// numbers as the gradients computed whole.
final class PendingGradientTests: XCTestCase {
    override func tearDown() { resetMatrixThreads() }

    /// A three-layer MLP at mlp-fashion's discriminator's sizes: each weight's gradient stays a
    /// pending product (the biases' are tensors), and every one equals `gradients(of:at:)`'s to the
    /// bit. Layers applied twice (one D on a real and a fake batch) leave each weight a sum of two
    /// pending products, with the bits of the gradients accumulated whole, taken in blocks or not.
    func testLayerWeightsGetPendingProductsWithTheSameBits() {
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
                if case .pending(let product) = gradient {
                    XCTAssertTrue(index % 2 == 0, "a bias's gradient left pending")
                    XCTAssertEqual(product.addends.count, 0)
                } else {
                    XCTAssertTrue(index % 2 == 1, "weight \(index / 2)'s gradient computed whole, \(threads) threads")
                }
                XCTAssertEqual(gradient.tensor.scalars.map(\.bitPattern), whole[index].scalars.map(\.bitPattern),
                               "gradient \(index), \(threads) threads")
            }
            let twice = (discriminate(Variable(x), leaves).tanh().sum() + discriminate(Variable(other), leaves).sigmoid().sum())
            let summed = gradientsForUpdate(of: twice, at: leaves), reference = gradients(of: twice, at: leaves)
            for (index, gradient) in summed.enumerated() {
                let label = "gradient \(index), \(threads) threads"
                let expected = reference[index].scalars.map(\.bitPattern)
                switch gradient {
                case .tensor(let tensor):
                    XCTAssertTrue(index % 2 == 1, "weight \(index / 2)'s gradient computed whole, \(threads) threads")
                    XCTAssertEqual(tensor.scalars.map(\.bitPattern), expected, label)
                case .pending(let product):
                    XCTAssertTrue(index % 2 == 0, "a bias's gradient left pending")
                    XCTAssertEqual(product.addends.count, 1, label)
                    XCTAssertEqual(product.value().scalars.map(\.bitPattern), expected, label)
                    var blocks = [Float](repeating: .nan, count: product.shape[0] * product.shape[1])
                    let width = product.shape[1], lock = NSLock()
                    let taken = product.forEachBlock { rows, block in
                        lock.lock()
                        defer { lock.unlock() }
                        for i in 0..<rows.count * width { blocks[rows.lowerBound * width + i] = block[i] }
                    }
                    if taken { XCTAssertEqual(blocks.map(\.bitPattern), expected, label + " in blocks") }
                }
            }
        }
    }

    /// A weight that also meets an op other than a layer (a penalty on its squares), its gradient
    /// reaching the weight before, between or after the layers' (three graphs order them
    /// differently): the weight's gradient is a tensor with the bits of `gradients(of:at:)`.
    func testAGradientOfAnotherKindJoinsThePendingSumInOrder() {
        var random = RandomSource(seed: 43)
        let parameters = mlp(using: &random)
        let x = Tensor.uniform(shape: [64, 784], low: -1, high: 1, using: &random)
        let other = Tensor.uniform(shape: [64, 784], low: -1, high: 1, using: &random)
        let leaves = parameters.map { Variable.leaf($0) }
        func penalty(_ weight: Variable) -> Variable { (weight * weight).sum() }
        let losses = [
            penalty(leaves[0]) + discriminate(Variable(x), leaves).tanh().sum() + discriminate(Variable(other), leaves).sum(),
            discriminate(Variable(x), leaves).tanh().sum() + discriminate(Variable(other), leaves).sum() + penalty(leaves[0]),
            discriminate(Variable(x), leaves).tanh().sum() + penalty(leaves[0]) + discriminate(Variable(other), leaves).sum(),
        ]
        for (number, loss) in losses.enumerated() {
            let update = gradientsForUpdate(of: loss, at: leaves), reference = gradients(of: loss, at: leaves)
            guard case .tensor = update[0] else { return XCTFail("loss \(number): the penalised weight's gradient left pending") }
            for index in leaves.indices {
                XCTAssertEqual(update[index].tensor.scalars.map(\.bitPattern), reference[index].scalars.map(\.bitPattern),
                               "loss \(number), gradient \(index)")
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
