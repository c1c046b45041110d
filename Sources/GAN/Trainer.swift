import Autodiff
import Kernels
import NN

/// Where the generator's noise comes from.
public enum NoiseDistribution: Equatable {
    case uniform(low: Float, high: Float)
    case normal

    public func sample(count: Int, size: Int, using random: inout RandomSource) -> Tensor {
        switch self {
        case .uniform(let low, let high): return .uniform(shape: [count, size], low: low, high: high, using: &random)
        case .normal: return .normal(shape: [count, size], using: &random)
        }
    }
}

/// The knobs of the D-step/G-step loop.
public struct TrainingSettings: Equatable {
    public var batchSize = 64
    public var noise = NoiseDistribution.uniform(low: -1, high: 1)
    /// Target for real samples in the D step (1; 0.9 is one-sided label smoothing).
    public var realLabel: Float = 1
    /// Half-width of uniform noise added to every D-step label (0.1 ⇒ labels 1 ± 0.1 and 0 ± 0.1).
    public var labelNoise: Float = 0

    public init() {}
}

/// What one D step and one G step measured. Scores are probabilities: D(x) and D(G(z)).
public struct StepMetrics: Equatable {
    public var discriminatorLoss: Float = 0
    public var generatorLoss: Float = 0
    /// Fraction of real samples with D(x) > 0.5.
    public var realAccuracy: Float = 0
    /// Fraction of fake samples with D(G(z)) < 0.5.
    public var fakeAccuracy: Float = 0
    /// Mean D(x) over the real batch.
    public var realScore: Float = 0
    /// Mean D(G(z)) over the fake batch of the D step.
    public var fakeScore: Float = 0

    public init() {}
}

/// A generator, a discriminator (outputting logits), their optimizers, and the training steps.
public final class GANTrainer {
    public let generator: Sequential
    public let discriminator: Sequential
    public let generatorOptimizer: Optimizer
    public let discriminatorOptimizer: Optimizer
    public var settings: TrainingSettings
    public let latentSize: Int

    public init(generator: Sequential, discriminator: Sequential, latentSize: Int,
                generatorOptimizer: Optimizer, discriminatorOptimizer: Optimizer, settings: TrainingSettings) {
        self.generator = generator
        self.discriminator = discriminator
        self.latentSize = latentSize
        self.generatorOptimizer = generatorOptimizer
        self.discriminatorOptimizer = discriminatorOptimizer
        self.settings = settings
    }

    public func sampleNoise(count: Int, using random: inout RandomSource) -> Tensor {
        settings.noise.sample(count: count, size: latentSize, using: &random)
    }

    /// G(z) for `count` fresh noise vectors, without recording a graph.
    public func generate(count: Int, using random: inout RandomSource) -> Tensor {
        generate(from: sampleNoise(count: count, using: &random))
    }

    public func generate(from noise: Tensor) -> Tensor {
        withoutGradients { generator(Variable(noise)).value }
    }

    /// D(x) as probabilities, without recording a graph.
    public func discriminate(_ samples: Tensor) -> Tensor {
        withoutGradients { discriminator(Variable(samples)).value.sigmoid() }
    }

    /// One discriminator update on a real batch and a fresh fake batch:
    /// minimise BCE(D(x), 1) + BCE(D(G(z)), 0), i.e. maximise log D(x) + log(1 − D(G(z))).
    @discardableResult
    public func discriminatorStep(real: Tensor, into metrics: inout StepMetrics, using random: inout RandomSource) -> Float {
        let batch = real.shape[0]
        let fake = generate(count: batch, using: &random)  // detached: no gradient reaches G
        let realTargets = labels(count: batch, value: settings.realLabel, using: &random)
        let fakeTargets = labels(count: batch, value: 0, using: &random)

        let realLogits = discriminator(Variable(real))  // [batch, 1]
        let fakeLogits = discriminator(Variable(fake))  // [batch, 1]
        let loss = (binaryCrossEntropy(logits: realLogits, targets: realTargets)
            + binaryCrossEntropy(logits: fakeLogits, targets: fakeTargets)) * 0.5
        let parameters = discriminatorOptimizer.parameters
        discriminatorOptimizer.update(with: gradients(of: loss, at: parameters.map(\.variable)))

        let realScores = realLogits.value.sigmoid(), fakeScores = fakeLogits.value.sigmoid()
        metrics.discriminatorLoss = loss.value.scalar
        metrics.realScore = realScores.mean()
        metrics.fakeScore = fakeScores.mean()
        metrics.realAccuracy = realScores.mapped { $0 > 0.5 ? 1 : 0 }.mean()
        metrics.fakeAccuracy = fakeScores.mapped { $0 < 0.5 ? 1 : 0 }.mean()
        return metrics.discriminatorLoss
    }

    /// One generator update, non-saturating: minimise BCE(D(G(z)), 1), i.e. maximise log D(G(z)).
    @discardableResult
    public func generatorStep(batchSize: Int, into metrics: inout StepMetrics, using random: inout RandomSource) -> Float {
        let noise = sampleNoise(count: batchSize, using: &random)
        let fakeLogits = discriminator(generator(Variable(noise)))
        let loss = binaryCrossEntropy(logits: fakeLogits, targets: Tensor(shape: [batchSize, 1], repeating: 1))
        let parameters = generatorOptimizer.parameters
        generatorOptimizer.update(with: gradients(of: loss, at: parameters.map(\.variable)))
        metrics.generatorLoss = loss.value.scalar
        return metrics.generatorLoss
    }

    private func labels(count: Int, value: Float, using random: inout RandomSource) -> Tensor {
        let noise = settings.labelNoise
        guard noise > 0 else { return Tensor(shape: [count, 1], repeating: value) }
        return Tensor.uniform(shape: [count, 1], low: -noise, high: noise, using: &random) + value
    }
}
