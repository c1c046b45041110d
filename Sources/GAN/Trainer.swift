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
    /// Probability that a D-step label is flipped (real called fake and fake called real): "noisy labels".
    public var labelFlip: Float = 0
    /// What D and G minimise (non-saturating BCE unless set).
    public var loss = LossFamily.nonSaturating
    /// Discriminator (critic) updates per generator update in `trainingStep` (WGAN uses 5).
    public var criticSteps = 1
    /// PacGAN's packing: D judges packs of this many samples, concatenated into one input row.
    public var packSize = 1

    public init() {}
}

/// What one D step and one G step measured. Scores are probabilities D(x) and D(G(z)) for BCE,
/// mean critic values for the Wasserstein families.
public struct StepMetrics: Equatable {
    public var discriminatorLoss: Float = 0
    public var generatorLoss: Float = 0
    /// Fraction of real samples with D(x) > 0.5 (a critic: above the mean fake value).
    public var realAccuracy: Float = 0
    /// Fraction of fake samples with D(G(z)) < 0.5 (a critic: below the mean real value).
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

    /// D's raw outputs (logits, or critic values), without recording a graph; rows are D's inputs.
    public func discriminatorOutputs(_ inputs: Tensor) -> Tensor {
        withoutGradients { discriminator(Variable(inputs)).value }
    }

    /// One discriminator update on a real batch and a fresh fake batch of the same size.
    /// BCE: minimise BCE(D(x), 1) + BCE(D(G(z)), 0), i.e. maximise log D(x) + log(1 − D(G(z))).
    /// Critics: see `LossFamily`. With packing, the batch is judged in packs of `packSize`.
    @discardableResult
    public func discriminatorStep(real: Tensor, into metrics: inout StepMetrics, using random: inout RandomSource) -> Float {
        if settings.loss.isCritic || settings.packSize > 1 { return packedDiscriminatorStep(real: real, into: &metrics, using: &random) }
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
        record(loss: loss, realOutputs: realLogits.value, fakeOutputs: fakeLogits.value, into: &metrics)
        return metrics.discriminatorLoss
    }

    /// The D step of the critic families and of packed discriminators.
    private func packedDiscriminatorStep(real: Tensor, into metrics: inout StepMetrics, using random: inout RandomSource) -> Float {
        let packedReal = packed(real)
        let packedFake = packed(generate(count: real.shape[0], using: &random))  // detached: no gradient reaches G
        let realOutputs = discriminator(Variable(packedReal)), fakeOutputs = discriminator(Variable(packedFake))  // [packs, 1]
        let loss: Variable
        switch settings.loss {
        case .nonSaturating:
            let count = packedReal.shape[0]
            let realTargets = labels(count: count, value: settings.realLabel, using: &random)
            let fakeTargets = labels(count: count, value: 0, using: &random)
            loss = (binaryCrossEntropy(logits: realOutputs, targets: realTargets)
                + binaryCrossEntropy(logits: fakeOutputs, targets: fakeTargets)) * 0.5
        case .wasserstein:
            loss = fakeOutputs.mean() - realOutputs.mean()  // −(estimate of the Wasserstein-1 distance)
        case .wassersteinGradientPenalty(let weight):
            loss = fakeOutputs.mean() - realOutputs.mean()
                + gradientPenalty(critic: { self.discriminator($0) }, real: packedReal, fake: packedFake, weight: weight, using: &random)
        }
        let parameters = discriminatorOptimizer.parameters
        discriminatorOptimizer.update(with: gradients(of: loss, at: parameters.map(\.variable)))
        if case .wasserstein(let clip) = settings.loss { clipWeights(parameters, to: clip) }
        record(loss: loss, realOutputs: realOutputs.value, fakeOutputs: fakeOutputs.value, into: &metrics)
        return metrics.discriminatorLoss
    }

    private func record(loss: Variable, realOutputs: Tensor, fakeOutputs: Tensor, into metrics: inout StepMetrics) {
        metrics.discriminatorLoss = loss.value.scalar
        if settings.loss.isCritic {
            let realMean = realOutputs.mean(), fakeMean = fakeOutputs.mean()
            metrics.realScore = realMean
            metrics.fakeScore = fakeMean
            metrics.realAccuracy = realOutputs.mapped { $0 > fakeMean ? 1 : 0 }.mean()
            metrics.fakeAccuracy = fakeOutputs.mapped { $0 < realMean ? 1 : 0 }.mean()
            return
        }
        let realScores = realOutputs.sigmoid(), fakeScores = fakeOutputs.sigmoid()
        metrics.realScore = realScores.mean()
        metrics.fakeScore = fakeScores.mean()
        metrics.realAccuracy = realScores.mapped { $0 > 0.5 ? 1 : 0 }.mean()
        metrics.fakeAccuracy = fakeScores.mapped { $0 < 0.5 ? 1 : 0 }.mean()
    }

    /// One generator update on `batchSize` fresh samples. Non-saturating: minimise BCE(D(G(z)), 1),
    /// i.e. maximise log D(G(z)); critics: minimise −mean D(G(z)).
    @discardableResult
    public func generatorStep(batchSize: Int, into metrics: inout StepMetrics, using random: inout RandomSource) -> Float {
        let noise = sampleNoise(count: batchSize, using: &random)
        let samples = generator(Variable(noise))
        let outputs = discriminator(settings.packSize > 1 ? packed(samples) : samples)
        let loss = settings.loss.isCritic ? -outputs.mean()
            : binaryCrossEntropy(logits: outputs, targets: Tensor(shape: outputs.shape, repeating: 1))
        let parameters = generatorOptimizer.parameters
        generatorOptimizer.update(with: gradients(of: loss, at: parameters.map(\.variable)))
        metrics.generatorLoss = loss.value.scalar
        return metrics.generatorLoss
    }

    /// One round of the game: `criticSteps` D updates, each on a fresh real batch of
    /// batchSize·packSize samples from `realBatch`, then one G update on as many samples.
    @discardableResult
    public func trainingStep(realBatch: (Int) -> Tensor, into metrics: inout StepMetrics,
                             using random: inout RandomSource) -> StepMetrics {
        let count = settings.batchSize * settings.packSize
        for _ in 0..<max(settings.criticSteps, 1) {
            discriminatorStep(real: realBatch(count), into: &metrics, using: &random)
        }
        generatorStep(batchSize: count, into: &metrics, using: &random)
        return metrics
    }

    /// [n, d] samples as [n / packSize, d·packSize] packs (consecutive rows side by side).
    public func packed(_ samples: Tensor) -> Tensor {
        let (n, d) = (samples.shape[0], samples.shape[1]), m = settings.packSize
        precondition(n % m == 0, "\(n) samples do not split into packs of \(m)")
        return samples.reshaped(to: [n / m, d * m])
    }

    func packed(_ samples: Variable) -> Variable {
        let (n, d) = (samples.shape[0], samples.shape[1]), m = settings.packSize
        precondition(n % m == 0, "\(n) samples do not split into packs of \(m)")
        return samples.reshaped(to: [n / m, d * m])
    }

    private func labels(count: Int, value: Float, using random: inout RandomSource) -> Tensor {
        let noise = settings.labelNoise
        var result = noise > 0 ? Tensor.uniform(shape: [count, 1], low: -noise, high: noise, using: &random) + value
            : Tensor(shape: [count, 1], repeating: value)
        let flip = Double(settings.labelFlip)
        guard flip > 0 else { return result }
        let flipped: Float = value >= 0.5 ? 0 : settings.realLabel
        result.withUnsafeMutableBufferPointer { labels in
            for i in labels.indices where random.nextUnit() < flip { labels[i] = flipped }
        }
        return result
    }
}
