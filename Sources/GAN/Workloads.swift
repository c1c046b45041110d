import Autodiff
import Kernels
import NN

/// The four networks `gan-lab bench` times, exactly the tutorials' (see scripts/peer_models.py,
/// which builds the same ones in PyTorch and TensorFlow).
public enum BenchmarkWorkload: String, CaseIterable {
    case mlpGaussian = "mlp-gaussian"
    case mlpQuadratic = "mlp-quadratic"
    case mlpFashion = "mlp-fashion"
    case dcganMNIST = "dcgan-mnist"

    /// The kernels the workload's lesson runs its products on: the MLP lessons' numbers are the
    /// same on every machine (portable; lesson 5's step is as fast on them as on OpenBLAS's, measured),
    /// the DCGAN takes the fastest kernels (oneDNN's convolutions).
    public var lessonKernels: ProductKernels { self == .dcganMNIST ? .fastest : .portable }

    public var batchSize: Int { self == .mlpQuadratic || self == .dcganMNIST ? 256 : 64 }
    public var latentSize: Int { self == .mlpQuadratic ? 2 : 100 }

    /// The forward product of every layer of (generator, discriminator) that has one, first
    /// layer first, at the workload's batch: Dense is x·Wᵀ; a convolution is its im2col product,
    /// weight [Co, C·k²] times im2col [C·k², N·Ho·Wo]; a transposed convolution is its col2im
    /// product, Wᵀ [Co·k², C] times the input [C, N·H·W]. The shapes `gemm` gets on the portable
    /// kernels when a batch is one chunk (the fastest run convolutions on oneDNN; these count the
    /// same arithmetic).
    public var layerProducts: (generator: [LayerProduct], discriminator: [LayerProduct]) {
        let batch = batchSize
        func dense(_ input: Int, _ output: Int) -> LayerProduct {
            LayerProduct(ProductShape(m: batch, k: input, n: output, transposeB: true), weightIsA: false)
        }
        func convolution(_ input: Int, _ output: Int, plane: Int) -> LayerProduct {
            LayerProduct(ProductShape(m: output, k: input * 25, n: batch * plane), weightIsA: true)
        }
        func transposed(_ input: Int, _ output: Int, inputPlane: Int) -> LayerProduct {
            LayerProduct(ProductShape(m: output * 25, k: input, n: batch * inputPlane, transposeA: true), weightIsA: true)
        }
        switch self {
        case .mlpGaussian:
            return ([dense(100, 256), dense(256, 256), dense(256, 256), dense(256, 2)],
                    [dense(2, 256), dense(256, 256), dense(256, 256), dense(256, 1)])
        case .mlpQuadratic:
            return ([dense(2, 16), dense(16, 16), dense(16, 2)], [dense(2, 16), dense(16, 16), dense(16, 2), dense(2, 1)])
        case .mlpFashion:
            return ([dense(100, 256), dense(256, 512), dense(512, 1024), dense(1024, 784)],
                    [dense(784, 512), dense(512, 256), dense(256, 1)])
        case .dcganMNIST:
            return ([dense(100, 7 * 7 * 256), transposed(256, 128, inputPlane: 7 * 7), transposed(128, 64, inputPlane: 7 * 7),
                     transposed(64, 1, inputPlane: 14 * 14)],
                    [convolution(1, 64, plane: 14 * 14), convolution(64, 128, plane: 7 * 7), dense(7 * 7 * 128, 1)])
        }
    }

    /// Floating-point operations of the matrix products and convolutions of one step
    /// (2 per multiply–add), counted as scripts/peer_models.py counts dcgan-mnist's.
    public var flopsPerStep: Double { 2 * Double(productsPerStep.map(\.multiplyAdds).reduce(0, +)) }

    /// The matrix products of one step, in the order a step runs them: G forward; the D step's
    /// two forward passes and two backward passes (weights, and data but the first layer's);
    /// the G step's D forward pass and its data gradients, then G's backward pass (weights, and
    /// data but the noise's).
    public var productsPerStep: [ProductShape] {
        let (generator, discriminator) = layerProducts
        func forward(_ layers: [LayerProduct]) -> [ProductShape] { layers.map(\.forward) }
        func backward(_ layers: [LayerProduct], weights: Bool, dataOfFirst: Bool) -> [ProductShape] {
            layers.enumerated().reversed().flatMap { index, layer -> [ProductShape] in
                (weights ? [layer.weightGradient] : []) + (index > 0 || dataOfFirst ? [layer.dataGradient] : [])
            }
        }
        let discriminatorStep = forward(discriminator) + forward(discriminator)
            + backward(discriminator, weights: true, dataOfFirst: false) + backward(discriminator, weights: true, dataOfFirst: false)
        let generatorStep = forward(discriminator) + backward(discriminator, weights: false, dataOfFirst: true)
            + backward(generator, weights: true, dataOfFirst: false)
        return forward(generator) + discriminatorStep + generatorStep
    }

    /// (generator, discriminator) with Keras's initialisation.
    public func models(using random: inout RandomSource) -> (Sequential, Sequential) {
        switch self {
        case .mlpGaussian:
            return (Sequential([Dense(inputSize: 100, outputSize: 256, using: &random), ReLU(),
                                Dense(inputSize: 256, outputSize: 256, using: &random), ReLU(),
                                Dense(inputSize: 256, outputSize: 256, using: &random), ReLU(),
                                Dense(inputSize: 256, outputSize: 2, using: &random), Tanh()]),
                    Sequential([Dense(inputSize: 2, outputSize: 256, using: &random), LeakyReLU(),
                                Dense(inputSize: 256, outputSize: 256, using: &random), LeakyReLU(),
                                Dense(inputSize: 256, outputSize: 256, using: &random), LeakyReLU(),
                                Dense(inputSize: 256, outputSize: 1, using: &random)]))
        case .mlpQuadratic:
            return (Sequential([Dense(inputSize: 2, outputSize: 16, using: &random), LeakyReLU(),
                                Dense(inputSize: 16, outputSize: 16, using: &random), LeakyReLU(),
                                Dense(inputSize: 16, outputSize: 2, using: &random)]),
                    Sequential([Dense(inputSize: 2, outputSize: 16, using: &random), LeakyReLU(),
                                Dense(inputSize: 16, outputSize: 16, using: &random), LeakyReLU(),
                                Dense(inputSize: 16, outputSize: 2, using: &random),
                                Dense(inputSize: 2, outputSize: 1, using: &random)]))
        case .mlpFashion:
            var layers: [Layer] = []
            for (input, output) in [(100, 256), (256, 512), (512, 1024)] {
                layers += [Dense(inputSize: input, outputSize: output, using: &random), LeakyReLU(),
                           BatchNormalization(featureCount: output, momentum: 0.8)]
            }
            return (Sequential(layers + [Dense(inputSize: 1024, outputSize: 784, using: &random), Tanh()]),
                    Sequential([Dense(inputSize: 784, outputSize: 512, using: &random), LeakyReLU(),
                                Dense(inputSize: 512, outputSize: 256, using: &random), LeakyReLU(),
                                Dense(inputSize: 256, outputSize: 1, using: &random)]))
        case .dcganMNIST:
            return (Sequential([
                Dense(inputSize: 100, outputSize: 7 * 7 * 256, useBias: false, using: &random),
                BatchNormalization(featureCount: 7 * 7 * 256), LeakyReLU(), Reshape([256, 7, 7]),
                ConvTranspose2D(inputChannels: 256, outputChannels: 128, kernelSize: 5, stride: 1, padding: .same,
                                useBias: false, using: &random),
                BatchNormalization(featureCount: 128), LeakyReLU(),
                ConvTranspose2D(inputChannels: 128, outputChannels: 64, kernelSize: 5, stride: 2, padding: .same,
                                useBias: false, using: &random),
                BatchNormalization(featureCount: 64), LeakyReLU(),
                ConvTranspose2D(inputChannels: 64, outputChannels: 1, kernelSize: 5, stride: 2, padding: .same,
                                useBias: false, using: &random),
                Tanh(),
            ]), Sequential([
                Conv2D(inputChannels: 1, outputChannels: 64, kernelSize: 5, stride: 2, padding: .same, using: &random),
                LeakyReLU(), Dropout(rate: 0.3, using: &random),
                Conv2D(inputChannels: 64, outputChannels: 128, kernelSize: 5, stride: 2, padding: .same, using: &random),
                LeakyReLU(), Dropout(rate: 0.3, using: &random), Flatten(),
                Dense(inputSize: 7 * 7 * 128, outputSize: 1, using: &random),
            ]))
        }
    }

    /// How the workload trains: the peers' step (one G forward pass feeds the D update on the
    /// detached fakes and the G update through the updated D), with the tutorial's optimizers.
    public var configuration: GANConfiguration {
        var configuration = GANConfiguration(schedule: .sharedFakes)
        configuration.batchSize = batchSize
        configuration.noise = self == .dcganMNIST ? .normal : .uniform(low: -1, high: 1)
        var optimizer = OptimizerConfiguration()
        switch self {
        case .mlpGaussian: (optimizer.learningRate, optimizer.beta1) = (2e-4, 0.5)
        case .mlpQuadratic: (optimizer.kind, optimizer.convention, optimizer.learningRate) = (.rmsprop, .pytorch, 1e-3)
        case .mlpFashion: optimizer.learningRate = 1e-3
        case .dcganMNIST: optimizer.learningRate = 1e-4
        }
        (configuration.generatorOptimizer, configuration.discriminatorOptimizer) = (optimizer, optimizer)
        return configuration
    }

    /// A real batch in the data's range (the cost is what is measured, not the data).
    func realBatch(using random: inout RandomSource) -> Tensor {
        switch self {
        case .mlpGaussian: return .normal(shape: [batchSize, 2], std: 0.5, using: &random)
        case .mlpQuadratic:
            let x = Tensor.uniform(shape: [batchSize, 1], low: -50, high: 50, using: &random)
            return .concatenated([x, x * x + 10], alongAxis: 1)
        case .mlpFashion: return .uniform(shape: [batchSize, 784], low: -1, high: 1, using: &random)
        case .dcganMNIST: return .uniform(shape: [batchSize, 1, 28, 28], low: -1, high: 1, using: &random)
        }
    }
}

/// A layer's forward product C = op(A)·op(B), and which operand is the layer's weight (the
/// other is its data).
public struct LayerProduct {
    public let forward: ProductShape
    public let weightIsA: Bool

    public init(_ forward: ProductShape, weightIsA: Bool) { (self.forward, self.weightIsA) = (forward, weightIsA) }

    public var weightGradient: ProductShape { weightIsA ? forward.gradientOfA : forward.gradientOfB }
    public var dataGradient: ProductShape { weightIsA ? forward.gradientOfB : forward.gradientOfA }
}

/// One workload's networks and data, trained by the lab's one D step and one G step on the
/// peers' schedule (`UpdateSchedule.sharedFakes`).
public final class WorkloadRunner {
    public let workload: BenchmarkWorkload
    public let trainer: GANTrainer
    var random: RandomSource
    let realBatches: [Tensor]
    var stepIndex = 0
    private let optimizers: [TimedOptimizer]

    public init(_ workload: BenchmarkWorkload, seed: UInt64 = 0) {
        self.workload = workload
        random = RandomSource(seed: seed)
        let (generator, discriminator) = workload.models(using: &random)
        let configuration = workload.configuration
        optimizers = [TimedOptimizer(configuration.generatorOptimizer.make(for: generator.parameters)),
                      TimedOptimizer(configuration.discriminatorOptimizer.make(for: discriminator.parameters))]
        trainer = GANTrainer(generator: generator, discriminator: discriminator, latentSize: workload.latentSize,
                             generatorOptimizer: optimizers[0], discriminatorOptimizer: optimizers[1],
                             configuration: configuration)
        var data = random.split()
        realBatches = (0..<4).map { _ in workload.realBatch(using: &data) }
    }

    /// One discriminator update and one generator update; returns (D loss, G loss).
    @discardableResult
    public func step() -> (discriminatorLoss: Float, generatorLoss: Float) {
        let real = realBatches[stepIndex % realBatches.count]
        stepIndex += 1
        var metrics = StepMetrics()
        trainer.round(realBatch: { _, _ in real }, into: &metrics, using: &random)
        return (metrics.discriminatorLoss, metrics.generatorLoss)
    }

    /// Time spent in both networks' optimizer updates so far.
    public var updateNanoseconds: UInt64 { optimizers.map(\.nanoseconds).reduce(0, +) }
}
