import Autodiff
import Kernels
import XCTest

final class OperationGradientTests: XCTestCase {
    var random = RandomSource(seed: 31)

    func testPointwiseFunctions() {
        let positive = Tensor.uniform(shape: [3, 4], low: 0.5, high: 2, using: &random)
        let x = awayFromZero([3, 4], using: &random)
        let other = awayFromZero([4], using: &random)
        checkGradients([positive], step: 1e-3) { $0[0].squareRoot() }
        checkGradients([positive], step: 1e-3) { $0[0].raised(toPower: 3) }
        checkGradients([positive], step: 1e-3) { $0[0].raised(toPower: -0.5) }
        checkGradients([x]) { $0[0].absolute() }
        checkGradients([x]) { $0[0].clamped(low: -1, high: 1) }
        checkGradients([x, other]) { Variable.maximum($0[0], $0[1]) }
        checkGradients([x, other]) { Variable.minimum($0[0], $0[1]) }
        checkGradients([x, positive]) { $0[0] / $0[1] * 2 }
    }

    func testReductionsOverAxes() {
        let x = Tensor.uniform(shape: [2, 3, 4], low: -1, high: 1, using: &random)
        checkGradients([x]) { $0[0].mean(alongAxes: [1]) }
        checkGradients([x]) { $0[0].variance(alongAxes: [0, 2]) }
        checkGradients([x], step: 1e-3) { $0[0].maximum(alongAxes: [2]) }
        checkGradients([x]) { $0[0].channelSums() }
        let bias = Tensor.uniform(shape: [3], low: -1, high: 1, using: &random)
        checkGradients([x, bias]) { $0[0].addingChannelBias($0[1]) }
    }

    func testShapeOps() {
        let x = Tensor.uniform(shape: [2, 3, 4], low: -1, high: 1, using: &random)
        let y = Tensor.uniform(shape: [2, 2, 4], low: -1, high: 1, using: &random)
        checkGradients([x]) { $0[0].permuted([2, 0, 1]) }
        checkGradients([x]) { $0[0].flattened() }
        checkGradients([x]) { $0[0].sliced(alongAxis: 1, 1..<3) }
        checkGradients([x, y]) { Variable.concatenated([$0[0], $0[1]], alongAxis: 1) }
        checkGradients([x.sliced(alongAxis: 0, 0..<1).reshaped(to: [3, 4])]) { $0[0].transposed().expanded(to: [2, 4, 3]) }
    }

    func testBatchedAndFusedProducts() {
        let a = Tensor.uniform(shape: [2, 3, 4], low: -1, high: 1, using: &random)
        let b = Tensor.uniform(shape: [2, 5, 4], low: -1, high: 1, using: &random)
        checkGradients([a, b]) { matmul($0[0], $0[1], transposeB: true) }
        let x = Tensor.uniform(shape: [5, 4], low: -1, high: 1, using: &random)
        let w = Tensor.uniform(shape: [3, 4], low: -1, high: 1, using: &random)
        let bias = Tensor.uniform(shape: [3], low: -1, high: 1, using: &random)
        checkGradients([x, w, bias]) { linear($0[0], $0[1], bias: $0[2]) }
        checkGradients([x, w]) { linear($0[0], $0[1], bias: nil) }
    }

    /// On both kernel sets: im2col, and oneDNN (its GEMM-based kernels in the plain layout for
    /// these few channels, its blocked layouts and direct kernels for 16).
    func testConvolutionsAndTheirGradients() {
        for kernels in ProductKernels.allCases {
            withProductKernels(kernels) { convolutionsAndTheirGradients(channels: 2) }
        }
        withProductKernels(.fastest) { convolutionsAndTheirGradients(channels: 16) }
    }

    private func convolutionsAndTheirGradients(channels: Int) {
        for (stride, padding, kernel) in [(1, Padding.same, 5), (2, .same, 5), (2, .valid, 4), (2, .uniform(1), 4)] {
            let x = Tensor.uniform(shape: [2, channels, 7, 6], low: -1, high: 1, using: &random)
            let w = Tensor.uniform(shape: [channels + 1, channels, kernel, kernel], low: -1, high: 1, using: &random)
            let b = Tensor.uniform(shape: [channels + 1], low: -1, high: 1, using: &random)
            let g = ConvolutionGeometry.convolution(inputShape: x.shape, weightShape: w.shape, stride: stride, padding: padding)
            checkGradients([x, w, b], step: 1e-2) { conv2d($0[0], $0[1], bias: $0[2], geometry: g) }
            let dy = Tensor.uniform(shape: g.outputShape, low: -1, high: 1, using: &random)
            checkGradients([dy, w]) { convolutionInputGradient($0[0], $0[1], geometry: g) }
            checkGradients([x, dy]) { convolutionWeightGradient($0[0], $0[1], geometry: g) }
        }
        let x = Tensor.uniform(shape: [2, channels + 1, 4, 3], low: -1, high: 1, using: &random)
        let w = Tensor.uniform(shape: [channels + 1, channels, 5, 5], low: -1, high: 1, using: &random)
        let b = Tensor.uniform(shape: [channels], low: -1, high: 1, using: &random)
        let up = ConvolutionGeometry.transposedConvolution(inputShape: x.shape, weightShape: w.shape, stride: 2, padding: .same)
        checkGradients([x, w, b]) { transposedConv2d($0[0], $0[1], bias: $0[2], geometry: up) }
    }

    /// On both kernel sets.
    func testGradientPenaltyThroughConvolution() {
        for kernels in ProductKernels.allCases {
            withProductKernels(kernels) { gradientPenaltyThroughConvolution() }
        }
    }

    private func gradientPenaltyThroughConvolution() {
        // penalty(W) = Σ (∂/∂x Σ D(x))² for D = Conv2D 5×5 s2 "same" → LeakyReLU → Dense,
        // differentiated in both weights and checked by finite differences on the penalty.
        var random = RandomSource(seed: 12)
        let x = Tensor.uniform(shape: [2, 1, 6, 6], low: -1, high: 1, using: &random)
        let kernel = Tensor.uniform(shape: [2, 1, 5, 5], low: -0.5, high: 0.5, using: &random)
        let dense = Tensor.uniform(shape: [1, 18], low: -0.5, high: 0.5, using: &random)
        let g = ConvolutionGeometry.convolution(inputShape: x.shape, weightShape: kernel.shape, stride: 2, padding: .same)
        checkGradients([kernel, dense], step: 1e-3, tolerance: 2e-2) { weights in
            let input = Variable.leaf(x)
            let features = conv2d(input, weights[0], geometry: g).leakyRelu(slope: 0.2).flattened()
            let critic = linear(features, weights[1], bias: nil).sum()
            let inputGradient = differentiableGradients(of: critic, at: [input])[0]
            return (inputGradient * inputGradient).sum()
        }
        // Through a transposed convolution too (a generator-side layer feeding the critic).
        let z = Tensor.uniform(shape: [1, 2, 3, 3], low: -1, high: 1, using: &random)
        let upWeight = Tensor.uniform(shape: [2, 1, 4, 4], low: -0.5, high: 0.5, using: &random)
        let up = ConvolutionGeometry.transposedConvolution(inputShape: z.shape, weightShape: upWeight.shape, stride: 2, padding: .same)
        checkGradients([upWeight], step: 1e-3, tolerance: 2e-2) { weights in
            let input = Variable.leaf(z)
            let critic = transposedConv2d(input, weights[0], geometry: up).tanh().sum()
            let inputGradient = differentiableGradients(of: critic, at: [input])[0]
            return (inputGradient * inputGradient).sum()
        }
    }
}

final class ThreadedGradientTests: XCTestCase {
    /// Independent graphs on two threads give the same gradients as on one, and one thread
    /// turning recording off does not turn it off for the other.
    func testGraphsOnTwoThreadsAreIndependent() throws {
        func gradient(_ seed: UInt64) -> [Float] {
            var random = RandomSource(seed: seed)
            let x = Variable.leaf(.uniform(shape: [8, 5], low: -1, high: 1, using: &random))
            let w = Variable.leaf(.uniform(shape: [3, 5], low: -1, high: 1, using: &random))
            var loss = linear(x, w, bias: nil, negativeSlope: 0.2).tanh().sum()
            for _ in 0..<200 {
                _ = withoutGradients { linear(x, w, bias: nil).sum() }  // the other thread's switch
                loss = loss + linear(x, w, bias: nil).sigmoid().sum()
            }
            return gradients(of: loss, at: [x, w]).flatMap(\.scalars)
        }
        let alone = (0..<8).map { gradient(UInt64($0)) }
        var together = Array(repeating: [Float](), count: 8)
        try forEachJob(8, threads: 2, { gradient(UInt64($0)) }, completed: { together[$0] = $1 })
        XCTAssertEqual(together, alone)
    }

    /// A product's two gradients, computed side by side on two threads (each product large
    /// enough), equal those of one thread to the bit, for `linear` and every transpose of `matmul`.
    func testProductGradientsOnTwoThreadsMatchOneThread() {
        var random = RandomSource(seed: 12)
        let x = Tensor.uniform(shape: [64, 300], low: -1, high: 1, using: &random)
        let w = Tensor.uniform(shape: [260, 300], low: -1, high: 1, using: &random)
        let b = Tensor.uniform(shape: [260], low: -1, high: 1, using: &random)
        func run(threads: Int, _ loss: ([Variable]) -> Variable, _ inputs: [Tensor]) -> [[Float]] {
            setMatrixThreads(threads)
            defer { resetMatrixThreads() }
            let leaves = inputs.map { Variable.leaf($0) }
            return gradients(of: loss(leaves), at: leaves).map(\.scalars)
        }
        let cases: [(String, ([Variable]) -> Variable, [Tensor])] = [
            ("linear", { linear($0[0], $0[1], bias: $0[2]).tanh().sum() }, [x, w, b]),
            ("linear+leaky", { linear($0[0], $0[1], bias: $0[2], negativeSlope: 0.2).tanh().sum() }, [x, w, b]),
            ("xWᵀ", { matmul($0[0], $0[1], transposeB: true).tanh().sum() }, [x, w]),
            ("xᵀx", { matmul($0[0], $0[1], transposeA: true).tanh().sum() }, [x, x]),
            ("wxᵀ", { matmul($0[0], $0[1], transposeB: true).tanh().sum() }, [w, x]),
            ("wᵀxᵀ", { matmul($0[0], $0[1], transposeA: true, transposeB: true).tanh().sum() }, [w.transposed(), x]),
        ]
        for (name, loss, inputs) in cases {
            let one = run(threads: 1, loss, inputs), two = run(threads: 2, loss, inputs)
            XCTAssertEqual(one.count, inputs.count, name)
            for (index, (a, c)) in zip(one, two).enumerated() {
                XCTAssertEqual(zip(a, c).filter { $0 != $1 }.count, 0, "\(name): gradient \(index) differs on two threads")
                XCTAssertGreaterThan(a.reduce(0) { $0 + abs($1) }, 0, "\(name): gradient \(index) is zero")
            }
        }
    }
}
