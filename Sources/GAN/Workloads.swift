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

    public var batchSize: Int { self == .mlpQuadratic || self == .dcganMNIST ? 256 : 64 }
    public var latentSize: Int { self == .mlpQuadratic ? 2 : 100 }

    /// (input, output) sizes of the Dense layers of (generator, discriminator), first layer
    /// first; nil for dcgan-mnist, whose convolutions are not plain products.
    public var denseLayers: (generator: [(Int, Int)], discriminator: [(Int, Int)])? {
        switch self {
        case .mlpGaussian: return ([(100, 256), (256, 256), (256, 256), (256, 2)], [(2, 256), (256, 256), (256, 256), (256, 1)])
        case .mlpQuadratic: return ([(2, 16), (16, 16), (16, 2)], [(2, 16), (16, 16), (16, 2), (2, 1)])
        case .mlpFashion: return ([(100, 256), (256, 512), (512, 1024), (1024, 784)], [(784, 512), (512, 256), (256, 1)])
        case .dcganMNIST: return nil
        }
    }

    /// Floating-point operations of the matrix products and convolutions of one step
    /// (2 per multiply–add), counted as scripts/peer_models.py counts dcgan-mnist's.
    public var flopsPerStep: Double {
        // Multiply–adds per sample of each layer's product, first layer first.
        let (generator, discriminator): ([Int], [Int])
        if let (g, d) = denseLayers {
            (generator, discriminator) = (g.map { $0 * $1 }, d.map { $0 * $1 })
        } else {
            (generator, discriminator) = ([100 * 7 * 7 * 256, 7 * 7 * 256 * 128 * 25, 7 * 7 * 128 * 64 * 25, 14 * 14 * 64 * 25],
                                          [14 * 14 * 64 * 25, 7 * 7 * 64 * 128 * 25, 7 * 7 * 128])
        }
        let g = generator.reduce(0, +), d = discriminator.reduce(0, +)
        // G forward; D forward ×3; D-step backward ×2 (weight + data but the first layer's data);
        // G-step D backward (data); G backward (weight + data but the noise's).
        let multiplyAdds = g + 3 * d + 2 * (2 * d - discriminator[0]) + d + (2 * g - generator[0])
        return 2 * Double(multiplyAdds * batchSize)
    }

    /// The matrix products of one step of an MLP workload, in the order a step runs them, as
    /// `flopsPerStep` counts them (Dense weights are [out, in]): forward x·Wᵀ, data gradient
    /// g·W, weight gradient gᵀ·x. Nil for dcgan-mnist.
    public var productsPerStep: [ProductShape]? {
        guard let (generator, discriminator) = denseLayers else { return nil }
        let batch = batchSize
        func forward(_ layers: [(Int, Int)]) -> [ProductShape] {
            layers.map { ProductShape(m: batch, k: $0.0, n: $0.1, transposeB: true) }
        }
        func backward(_ layers: [(Int, Int)], weights: Bool, dataOfFirst: Bool) -> [ProductShape] {
            layers.enumerated().reversed().flatMap { index, layer -> [ProductShape] in
                let (input, output) = layer
                return (weights ? [ProductShape(m: output, k: batch, n: input, transposeA: true)] : [])
                    + (index > 0 || dataOfFirst ? [ProductShape(m: batch, k: output, n: input)] : [])
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

    func optimizer(for model: Sequential) -> Optimizer {
        switch self {
        case .mlpGaussian: return Adam(parameters: model.parameters, learningRate: 2e-4, beta1: 0.5)
        case .mlpQuadratic: return RMSProp(parameters: model.parameters, learningRate: 1e-3)
        case .mlpFashion: return Adam(parameters: model.parameters, learningRate: 1e-3)
        case .dcganMNIST: return Adam(parameters: model.parameters, learningRate: 1e-4)
        }
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

/// One workload's models, optimizers and data, stepping as the peers' script steps:
/// fake = G(z) once; D step on BCE(D(x), 1) + BCE(D(fake detached), 0); G step on
/// BCE(D(fake), 1) through the updated D, with gradients for G's parameters only.
public final class WorkloadRunner {
    public let workload: BenchmarkWorkload
    public let generator: Sequential, discriminator: Sequential
    let generatorOptimizer: Optimizer, discriminatorOptimizer: Optimizer
    var random: RandomSource
    let realBatches: [Tensor]
    let ones: Tensor, zeros: Tensor
    var stepIndex = 0

    public init(_ workload: BenchmarkWorkload, seed: UInt64 = 0) {
        self.workload = workload
        random = RandomSource(seed: seed)
        (generator, discriminator) = workload.models(using: &random)
        generatorOptimizer = workload.optimizer(for: generator)
        discriminatorOptimizer = workload.optimizer(for: discriminator)
        var data = random.split()
        realBatches = (0..<4).map { _ in workload.realBatch(using: &data) }
        ones = Tensor(shape: [workload.batchSize, 1], repeating: 1)
        zeros = Tensor(shape: [workload.batchSize, 1], repeating: 0)
    }

    /// One discriminator update and one generator update; returns (D loss, G loss).
    @discardableResult
    public func step() -> (discriminatorLoss: Float, generatorLoss: Float) {
        let batch = workload.batchSize
        let real = realBatches[stepIndex % realBatches.count]
        stepIndex += 1
        let noise: Tensor = workload == .dcganMNIST
            ? .normal(shape: [batch, workload.latentSize], using: &random)
            : .uniform(shape: [batch, workload.latentSize], low: -1, high: 1, using: &random)
        // Each graph lives inside a closure, so it is freed before the update that follows it
        // and the optimizer writes into parameters no graph still shares (no copy-on-write).
        let (discriminatorLoss, generatorLoss, generatorGradients) = { () -> (Float, Float, [Tensor]) in
            let fake = generator(Variable(noise))

            // D step: maximise log D(x) + log(1 − D(G(z))), fakes detached.
            let (discriminatorLoss, discriminatorGradients) = { () -> (Float, [Tensor]) in
                let loss = binaryCrossEntropy(logits: discriminator(Variable(real)), targets: ones)
                    + binaryCrossEntropy(logits: discriminator(fake.detached()), targets: zeros)
                return (loss.value.scalar, gradients(of: loss, at: discriminatorOptimizer.parameters.map(\.variable)))
            }()
            discriminatorOptimizer.update(with: discriminatorGradients)

            // G step (non-saturating): minimise BCE(D(G(z)), 1) through the updated D.
            let loss = binaryCrossEntropy(logits: discriminator(fake), targets: ones)
            return (discriminatorLoss, loss.value.scalar, gradients(of: loss, at: generatorOptimizer.parameters.map(\.variable)))
        }()
        generatorOptimizer.update(with: generatorGradients)
        return (discriminatorLoss, generatorLoss)
    }
}
