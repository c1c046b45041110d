import Autodiff
import Kernels
import NN
import XCTest

final class LayerTests: XCTestCase {
    var random = RandomSource(seed: 41)

    func testDCGANShapesAndParameterCounts() {
        let generator = Sequential([
            Dense(inputSize: 100, outputSize: 7 * 7 * 256, useBias: false, using: &random),
            BatchNormalization(featureCount: 7 * 7 * 256), LeakyReLU(), Reshape([256, 7, 7]),
            ConvTranspose2D(inputChannels: 256, outputChannels: 128, kernelSize: 5, stride: 1, padding: .same, useBias: false, using: &random),
            BatchNormalization(featureCount: 128), LeakyReLU(),
            ConvTranspose2D(inputChannels: 128, outputChannels: 64, kernelSize: 5, stride: 2, padding: .same, useBias: false, using: &random),
            BatchNormalization(featureCount: 64), LeakyReLU(),
            ConvTranspose2D(inputChannels: 64, outputChannels: 1, kernelSize: 5, stride: 2, padding: .same, useBias: false, using: &random),
            Tanh(),
        ])
        XCTAssertEqual(generator.outputShape(for: [2, 100]), [2, 1, 28, 28])
        // Keras's summary of the tutorial's generator: 2,330,944 in all, 25,472 of them BatchNorm's
        // moving statistics (not trainable).
        XCTAssertEqual(generator.parameterCount, 2_305_472)
        XCTAssertEqual(generator.parameterCount + generator.buffers.reduce(0) { $0 + $1.value.count }, 2_330_944)
        let discriminator = Sequential([
            Conv2D(inputChannels: 1, outputChannels: 64, kernelSize: 5, stride: 2, padding: .same, using: &random),
            LeakyReLU(), Dropout(rate: 0.3, using: &random),
            Conv2D(inputChannels: 64, outputChannels: 128, kernelSize: 5, stride: 2, padding: .same, using: &random),
            LeakyReLU(), Dropout(rate: 0.3, using: &random), Flatten(),
            Dense(inputSize: 6272, outputSize: 1, using: &random),
        ])
        XCTAssertEqual(discriminator.outputShape(for: [2, 1, 28, 28]), [2, 1])
        XCTAssertEqual(discriminator.parameterCount, 212_865)
        let images = generator(Variable(Tensor.normal(shape: [2, 100], using: &random)))
        XCTAssertEqual(images.shape, [2, 1, 28, 28])
        XCTAssertEqual(discriminator(images).shape, [2, 1])
        XCTAssertEqual(generator.namedTensors.map(\.name).prefix(5),
                       ["0.weight", "1.weight", "1.bias", "1.running_mean", "1.running_var"])
    }

    func testBatchNormalizationTrainingAndInference() {
        let norm = BatchNormalization(featureCount: 3, momentum: 0.8)
        let x = Tensor.uniform(shape: [4, 3, 2, 2], low: -2, high: 3, using: &random)
        let y = norm(Variable(x)).value
        let mean = y.mean(alongAxes: [0, 2, 3]), square = (y * y).mean(alongAxes: [0, 2, 3])
        for c in 0..<3 {
            XCTAssertEqual(mean[c], 0, accuracy: 1e-5)
            XCTAssertEqual(square[c], 1, accuracy: 2e-3)  // variance / (variance + ε)
        }
        let batchMean = x.mean(alongAxes: [0, 2, 3])
        XCTAssertEqual(norm.runningMean.value[1], 0.2 * batchMean[1], accuracy: 1e-6)
        norm.isTraining = false
        let inference = norm(Variable(x)).value
        let expected = (x - norm.runningMean.value.reshaped(to: [1, 3, 1, 1]))
            / (norm.runningVariance.value.reshaped(to: [1, 3, 1, 1]) + 1e-3).squareRoot()
        for (a, b) in zip(inference.scalars, expected.scalars) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        // Gradients through the batch statistics, for dense and convolutional input.
        checkLayerGradients(BatchNormalization(featureCount: 3), input: Tensor.uniform(shape: [5, 3], low: -1, high: 1, using: &random))
        checkLayerGradients(BatchNormalization(featureCount: 2), input: Tensor.uniform(shape: [2, 2, 3, 2], low: -1, high: 1, using: &random))
    }

    func testDropoutScalesInTrainingAndIsTheIdentityInInference() {
        let dropout = Dropout(rate: 0.3, using: &random)
        let ones = Tensor(shape: [100, 100], repeating: 1)
        let kept = dropout(Variable(ones)).value
        let fraction = kept.mapped { $0 > 0 ? 1 : 0 }.mean()
        XCTAssertEqual(fraction, 0.7, accuracy: 0.02)
        XCTAssertEqual(kept.scalars.max()!, 1 / 0.7, accuracy: 1e-6)
        dropout.isTraining = false
        XCTAssertEqual(dropout(Variable(ones)).value.scalars, ones.scalars)
    }

    /// The mask is drawn in slices side by side, each from its own place in the layer's one
    /// stream: element i is kept when draw i (two 32-bit draws per 64 bits, in order) is below
    /// 0.7·2³², on any thread count, and the next call goes on where this one stopped.
    func testDropoutMaskIsTheLayersOneStreamOnAnyThreadCount() {
        let x = Tensor.uniform(shape: [3, 40_001], low: -1, high: 1, using: &random)
        func masks(threads: Int) -> [[Float]] {
            setMatrixThreads(threads)
            defer { resetMatrixThreads() }
            var seed = RandomSource(seed: 7)
            let dropout = Dropout(rate: 0.3, using: &seed)
            return (0..<2).map { _ in
                let input = Variable.leaf(x), y = dropout(input)
                let g = gradients(of: y.sum(), at: [input])[0]
                XCTAssertTrue(y.value.scalars == zip(x.scalars, g.scalars).map { $0 * $1 }, "y = x · mask")
                return g.scalars
            }
        }
        var seed = RandomSource(seed: 7)
        var stream = seed.split()
        let threshold = UInt64(Double(Float(1) - Float(0.3)) * 0x1p32)  // as the layer works it out
        let expected: [[Float]] = (0..<2).map { _ in
            var draws: [UInt64] = []
            while draws.count < x.count {
                let bits = stream.nextBits()
                draws += [bits & 0xFFFF_FFFF, bits >> 32]
            }
            return draws.prefix(x.count).map { $0 < threshold ? 1 / 0.7 : 0 }
        }
        for threads in [1, 2] {
            let masks = masks(threads: threads)
            for call in 0..<2 {  // the first differing element, not 120 K of them
                XCTAssertNil(masks[call].indices.first { masks[call][$0] != expected[call][$0] }, "\(threads) threads, call \(call)")
            }
        }
    }

    func testLossesAndLabelOptions() {
        let logits = Tensor.uniform(shape: [6, 1], low: -2, high: 2, using: &random)
        let signs = Tensor(shape: [6, 1], scalars: [1, -1, 1, -1, 1, -1])
        checkGradientsNN([logits]) { hingeLoss($0[0], targets: signs) }
        checkGradientsNN([logits]) { meanSquaredError($0[0], signs) }
        checkGradientsNN([logits, signs]) { wassersteinCriticLoss(real: $0[0], fake: $0[1]) }
        // Softmax cross-entropy: gradients, and values against −log softmax by hand (large logits too).
        let classLogits = Tensor.uniform(shape: [4, 3], low: -3, high: 3, using: &random)
        let classes = [2, 0, 1, 2]
        checkGradientsNN([classLogits]) { softmaxCrossEntropy(logits: $0[0], labels: classes) }
        for shift: Float in [0, 80] {
            let shifted = classLogits + shift
            let probabilities = shifted.softmaxRows()
            var expected: Float = 0
            for (row, label) in classes.enumerated() { expected -= log(probabilities[row * 3 + label]) / 4 }
            XCTAssertEqual(softmaxCrossEntropy(logits: Variable(shifted), labels: classes).value.scalar, expected, accuracy: 1e-5)
            for row in 0..<4 { XCTAssertEqual((0..<3).map { probabilities[row * 3 + $0] }.reduce(0, +), 1, accuracy: 1e-6) }
        }
        var labels = RandomSource(seed: 1)
        XCTAssertEqual(LabelOptions(smoothing: 0.2).targets(count: 1, label: 1, using: &labels).scalar, 0.9, accuracy: 1e-7)
        XCTAssertEqual(LabelOptions(realLabel: 0.9).targets(count: 1, label: 0, using: &labels).scalar, 0)
        let noisy = LabelOptions(noise: 0.1).targets(count: 1000, label: 1, using: &labels)
        XCTAssertTrue(noisy.scalars.allSatisfy { $0 >= 0.9 && $0 <= 1.1 })
    }

    /// An update runs over all parameters at once, laid end to end and cut into slices on the
    /// run's threads (a slice may end inside a parameter or hold several small ones): the same
    /// numbers as one thread, every part of every parameter updated, and a value shared with
    /// another tensor copied before it is written.
    func testOptimizersUpdateLargeParametersInSlicesToTheSameBits() {
        let shapes = [[301, 700], [7], [130, 1100], [3, 5], [90_001]]
        let starts = shapes.map { Tensor.uniform(shape: $0, low: -1, high: 1, using: &random) }
        let gradients = (0..<3).map { _ in shapes.map { Tensor.uniform(shape: $0, low: -1, high: 1, using: &random) } }
        func trained(_ make: ([Parameter]) -> Optimizer, threads: Int) -> [[Float]] {
            setMatrixThreads(threads)
            defer { resetMatrixThreads() }
            let parameters = starts.enumerated().map { Parameter(name: "p\($0)", value: $1) }
            let optimizer = make(parameters)
            for step in gradients { optimizer.update(with: step) }
            return parameters.map(\.value.scalars)
        }
        let makers: [([Parameter]) -> Optimizer] = [{ Adam(parameters: $0) }, { RMSProp(parameters: $0) },
                                                    { SGD(parameters: $0, momentum: 0.9) }]
        for make in makers {
            let one = trained(make, threads: 1)
            for (values, start) in zip(one, starts) {  // (a gradient near 0 may leave one unchanged)
                XCTAssertLessThanOrEqual(zip(values, start.scalars).filter { $0 == $1 }.count, values.count / 1000)
            }
            for threads in [2, 3] {
                XCTAssertEqual(trained(make, threads: threads), one, "\(threads) threads")
            }
        }
    }
}


final class LayerGradientTests: XCTestCase {
    var random = RandomSource(seed: 43)

    func testDenseConvolutionsAndActivations() {
        checkLayerGradients(Dense(inputSize: 4, outputSize: 3, using: &random),
                            input: Tensor.uniform(shape: [2, 4], low: -1, high: 1, using: &random))
        checkLayerGradients(Conv2D(inputChannels: 2, outputChannels: 2, kernelSize: 4, stride: 2, padding: .same, using: &random),
                            input: Tensor.uniform(shape: [2, 2, 5, 5], low: -1, high: 1, using: &random))
        checkLayerGradients(ConvTranspose2D(inputChannels: 2, outputChannels: 2, kernelSize: 5, stride: 2, padding: .same, using: &random),
                            input: Tensor.uniform(shape: [1, 2, 3, 3], low: -1, high: 1, using: &random))
        // Dense then LeakyReLU/ReLU runs as one fused op inside Sequential.
        checkLayerGradients(Sequential([Dense(inputSize: 3, outputSize: 4, using: &random), LeakyReLU(slope: 0.1),
                                        Dense(inputSize: 4, outputSize: 3, useBias: false, using: &random), ReLU()]),
                            input: Tensor.uniform(shape: [5, 3], low: -1, high: 1, using: &random), step: 1e-3)
        checkLayerGradients(Sequential([LeakyReLU(), Reshape([2, 3]), Flatten()]),
                            input: Tensor.uniform(shape: [2, 6], low: 0.1, high: 1, using: &random))
    }
}

final class FusedPathTests: XCTestCase {
    /// A LeakyReLU followed by Dropout in a Sequential runs as one op; its output and its input
    /// gradient (plain, and recorded for a gradient of a gradient) are those of the two layers
    /// one after the other, to the bit, on one and two threads and over the split size.
    func testLeakyReLUThenDropoutFusedIsTheTwoLayers() {
        var random = RandomSource(seed: 45)
        for shape in [[5, 7], [3, 64, 29, 31]] {  // 172,608 elements: two slices
            let x = Tensor.uniform(shape: shape, low: -2, high: 2, using: &random)
            let weighting = Tensor.uniform(shape: shape, low: -1, high: 1, using: &random)
            for threads in [1, 2] {
                setMatrixThreads(threads)
                defer { resetMatrixThreads() }
                func run(fused: Bool, recorded: Bool) -> [[UInt32]] {
                    var seed = RandomSource(seed: 8)
                    let leaky = LeakyReLU(slope: 0.2), dropout = Dropout(rate: 0.3, using: &seed)
                    let input = Variable.leaf(x)
                    let y = fused ? Sequential([leaky, dropout])(input) : dropout(leaky(input))
                    let loss = (y * weighting).sum()
                    let g = recorded ? differentiableGradients(of: loss, at: [input])[0].value : gradients(of: loss, at: [input])[0]
                    return [y.value.scalars.map(\.bitPattern), g.scalars.map(\.bitPattern)]
                }
                let apart = run(fused: false, recorded: false)
                XCTAssertEqual(run(fused: true, recorded: false), apart, "\(shape), \(threads) threads")
                XCTAssertEqual(run(fused: true, recorded: true), apart, "\(shape), \(threads) threads, recorded")
                XCTAssertEqual(run(fused: false, recorded: true), apart, "\(shape), \(threads) threads, apart, recorded")
            }
        }
    }

    /// Fused backward kernels (plain backward) and their differentiable forms (recorded
    /// backward, for gradients of gradients) agree.
    func testFusedAndRecordedPullbacksAgree() {
        var random = RandomSource(seed: 44)
        for shape in [[6, 5], [3, 4, 3, 2]] {
            let x = Tensor.uniform(shape: shape, low: -2, high: 2, using: &random)
            let gamma = Tensor.uniform(shape: [shape[1]], low: 0.5, high: 1.5, using: &random)
            let beta = Tensor.uniform(shape: [shape[1]], low: -1, high: 1, using: &random)
            let weighting = Tensor.uniform(shape: shape, low: -1, high: 1, using: &random)
            let leaves = [x, gamma, beta].map(Variable.leaf)
            func loss() -> Variable {
                let y = batchNormalized(leaves[0], scale: leaves[1], shift: leaves[2], epsilon: 1e-3).0
                return ((y.tanh().sigmoid().softplus() + y.leakyRelu(slope: 0.1) + y.relu()) * weighting).sum()
            }
            let fused = gradients(of: loss(), at: leaves)
            let recorded = differentiableGradients(of: loss(), at: leaves).map(\.value)
            for (a, b) in zip(fused, recorded) {
                for (u, v) in zip(a.scalars, b.scalars) { XCTAssertEqual(u, v, accuracy: 1e-4 * max(1, abs(v)), "\(shape)") }
            }
        }
    }
}
