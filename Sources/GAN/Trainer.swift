import Autodiff
import Kernels
import NN

/// What one D step and one G step measured. Scores are probabilities D(x) and D(G(z)) for the
/// cross-entropy families, mean outputs for the others.
public struct StepMetrics: Equatable, Codable {
    public var discriminatorLoss: Float = 0
    public var generatorLoss: Float = 0
    /// Fraction of real samples D calls real: D(x) > 0.5 (least squares: output > 0.5; a critic:
    /// above the mean fake value).
    public var realAccuracy: Float = 0
    /// Fraction of fake samples D calls fake, judged as for `realAccuracy`.
    public var fakeAccuracy: Float = 0
    /// Mean D(x) over the real batch.
    public var realScore: Float = 0
    /// Mean D(G(z)) over the fake batch of the D step.
    public var fakeScore: Float = 0
    /// Mean D(G(z)) over the G step's own samples, judged by D before G's update (they differ
    /// from the D step's when G makes D's fakes in another mode, or D has moved since).
    public var generatorStepFakeScore: Float = 0

    public init() {}

    /// Metrics of a single-network update: what it did not measure is NaN.
    public static func measuring(_ network: UpdatedNetwork) -> StepMetrics {
        var metrics = StepMetrics()
        switch network {
        case .both: break
        case .discriminator: metrics.generatorLoss = .nan
        case .generator:
            (metrics.discriminatorLoss, metrics.realAccuracy, metrics.fakeAccuracy) = (.nan, .nan, .nan)
            (metrics.realScore, metrics.fakeScore) = (.nan, .nan)
        }
        if network == .discriminator { metrics.generatorStepFakeScore = .nan }
        return metrics
    }
}

/// Which network an update changes.
/// `both`: one joint update of the two from one forward pass (the joint and shared-fakes schedules).
public enum UpdatedNetwork: Hashable { case discriminator, generator, both }

/// Runs one update of `network`, given the real batch and the noise it uses; a view may look at
/// the networks before and after it. The default just runs the update.
public typealias UpdateObserver = (_ network: UpdatedNetwork, _ real: Tensor, _ noise: Tensor, _ update: () -> Void) -> Void

/// A generator, a discriminator (outputting logits or critic values), their optimizers, and the
/// one D step and one G step every stage kind and the benchmark train with.
/// A conditional GAN's noise is G's whole input, [z | one-hot label], and its samples carry their
/// labels as channels (`labelled`); `generate` gives the images alone.
public final class GANTrainer {
    public let generator: Sequential
    public let discriminator: Sequential
    public let generatorOptimizer: Optimizer
    public let discriminatorOptimizer: Optimizer
    public let configuration: GANConfiguration
    public let latentSize: Int

    /// The optimizers the configuration describes.
    public convenience init(generator: Sequential, discriminator: Sequential, latentSize: Int, configuration: GANConfiguration) {
        self.init(generator: generator, discriminator: discriminator, latentSize: latentSize,
                  generatorOptimizer: configuration.generatorOptimizer.make(for: generator.parameters),
                  discriminatorOptimizer: configuration.discriminatorOptimizer.make(for: discriminator.parameters),
                  configuration: configuration)
    }

    public init(generator: Sequential, discriminator: Sequential, latentSize: Int,
                generatorOptimizer: Optimizer, discriminatorOptimizer: Optimizer, configuration: GANConfiguration) {
        self.generator = generator
        self.discriminator = discriminator
        self.latentSize = latentSize
        self.generatorOptimizer = generatorOptimizer
        self.discriminatorOptimizer = discriminatorOptimizer
        self.configuration = configuration
    }

    /// Noise for `count` samples; a conditional GAN's asks for labels drawn uniformly from its classes.
    public func sampleNoise(count: Int, using random: inout RandomSource) -> Tensor {
        let z = configuration.noise.sample(count: count, size: latentSize, using: &random)
        guard configuration.classes > 0 else { return z }
        return conditionedNoise(z, labels: (0..<count).map { _ in random.index(below: configuration.classes) })
    }

    /// Noise for the fakes beside a real batch: a conditional GAN's asks for the real batch's labels
    /// (as Keras's conditional GAN example does), so D sees each class equally often on both sides.
    public func sampleNoise(matching real: Tensor, using random: inout RandomSource) -> Tensor {
        let z = configuration.noise.sample(count: real.shape[0], size: latentSize, using: &random)
        return configuration.classes > 0 ? conditionedNoise(z, labels: labels(ofSamples: real)) : z
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

    // MARK: The one D step and the one G step

    /// One discriminator step on a real batch and a fake batch (G's samples, detached: no
    /// gradient reaches G): one update on both halves, or, with `discriminatorHalves` separately,
    /// one on the real half and then one on the fake half. With packing, both are judged in packs
    /// of `packSize`.
    public func discriminatorStep(real: Tensor, fake: Tensor, into metrics: inout StepMetrics, using random: inout RandomSource) {
        if configuration.discriminatorHalves == .separately {
            return discriminatorStepInHalves(real: real, fake: fake, into: &metrics, using: &random)
        }
        // The graph lives inside the closure, so it is freed before the update writes into the
        // parameters it shares (no copy-on-write).
        let parameterGradients = { () -> [ParameterGradient] in
            let realInput = packed(real), fakeInput = packed(fake)
            let loss = discriminatorLoss(realOutputs: discriminator(Variable(realInput)), fakeOutputs: discriminator(Variable(fakeInput)),
                                         realInput: realInput, fakeInput: fakeInput, into: &metrics, using: &random)
            return gradientsForUpdate(of: loss, at: discriminatorOptimizer.parameters.map(\.variable))
        }()
        applyDiscriminatorUpdate(parameterGradients)
    }

    /// Keras's two `train_on_batch` calls: an update on the real half's loss, then one on the fake
    /// half's, judged by the D the first update made. The step's loss is their average (the
    /// tutorial's `0.5 * np.add(d_loss_real, d_loss_fake)`), its scores each half's own.
    private func discriminatorStepInHalves(real: Tensor, fake: Tensor, into metrics: inout StepMetrics, using random: inout RandomSource) {
        let family = configuration.loss
        let realInput = packed(real), fakeInput = packed(fake)
        let realTargets = labels(count: realInput.shape[0], value: configuration.realLabel, using: &random)
        let fakeTargets = labels(count: fakeInput.shape[0], value: 0, using: &random)
        func update(_ input: Tensor, _ targets: Tensor) -> (loss: Float, outputs: Tensor) {
            var result: (Float, Tensor) = (0, Tensor(shape: [0]))
            let parameterGradients = { () -> [ParameterGradient] in
                let outputs = discriminator(Variable(input))
                let loss = family.halfLoss(outputs, targets: targets)
                result = (loss.value.scalar, outputs.value)
                return gradientsForUpdate(of: loss, at: discriminatorOptimizer.parameters.map(\.variable))
            }()
            applyDiscriminatorUpdate(parameterGradients)
            return result
        }
        let realHalf = update(realInput, realTargets), fakeHalf = update(fakeInput, fakeTargets)
        record(loss: (realHalf.loss + fakeHalf.loss) / 2, realOutputs: realHalf.outputs, fakeOutputs: fakeHalf.outputs, into: &metrics)
    }

    /// G's samples for D's step, in the mode the configuration names (inference: batch
    /// normalisation on its running statistics, as Keras's `predict` makes them).
    public func fakesForDiscriminator(from noise: Tensor) -> Tensor {
        labelled(generator.running(in: configuration.fakesMode) { generate(from: noise) }, noise: noise)
    }

    /// One generator update on the given noise, through D as it is now.
    public func generatorStep(noise: Tensor, into metrics: inout StepMetrics) {
        let parameterGradients = { () -> [ParameterGradient] in
            generatorGradients(samples: labelled(generator(Variable(noise)), noise: noise), into: &metrics)
        }()
        generatorOptimizer.update(with: parameterGradients)
    }

    /// D's loss on its outputs for a real and a fake batch (already packed), with the labels the
    /// configuration asks for; records D's numbers in `metrics`.
    private func discriminatorLoss(realOutputs: Variable, fakeOutputs: Variable, realInput: Tensor, fakeInput: Tensor,
                                   into metrics: inout StepMetrics, using random: inout RandomSource) -> Variable {
        let family = configuration.loss
        let count = realInput.shape[0]
        var realTargets = Tensor(shape: [0]), fakeTargets = Tensor(shape: [0])
        if family.usesTargets {
            realTargets = labels(count: count, value: configuration.realLabel, using: &random)
            fakeTargets = labels(count: count, value: 0, using: &random)
        }
        var loss = family.discriminatorLoss(real: realOutputs, fake: fakeOutputs, realTargets: realTargets, fakeTargets: fakeTargets,
                                            combination: configuration.halvesCombination)
        if case .wassersteinGradientPenalty(let weight) = family {
            if configuration.classes > 0 {
                // The penalty is on the gradient at the image; the labels (the same on both sides) stay as they are.
                let channels = realInput.shape[1] - configuration.classes
                let maps = Variable(realInput.sliced(alongAxis: 1, channels..<realInput.shape[1]))
                loss = loss + gradientPenalty(critic: { self.discriminator(Variable.concatenated([$0, maps], alongAxis: 1)) },
                                              real: realInput.sliced(alongAxis: 1, 0..<channels),
                                              fake: fakeInput.sliced(alongAxis: 1, 0..<channels), weight: weight, using: &random)
            } else {
                loss = loss + gradientPenalty(critic: { self.discriminator($0) }, real: realInput, fake: fakeInput, weight: weight, using: &random)
            }
        }
        record(loss: loss.value.scalar, realOutputs: realOutputs.value, fakeOutputs: fakeOutputs.value, into: &metrics)
        return loss
    }

    /// G's gradients for its samples (a recorded G(z)) judged by D as it is now.
    private func generatorGradients(samples: Variable, into metrics: inout StepMetrics) -> [ParameterGradient] {
        let outputs = discriminator(packed(samples))
        let loss = configuration.loss.generatorLoss(fake: outputs)
        metrics.generatorLoss = loss.value.scalar
        metrics.generatorStepFakeScore = score(outputs.value).mean()
        return gradientsForUpdate(of: loss, at: generatorOptimizer.parameters.map(\.variable))
    }

    private func applyDiscriminatorUpdate(_ parameterGradients: [ParameterGradient]) {
        discriminatorOptimizer.update(with: parameterGradients)
        if case .wasserstein(let clip) = configuration.loss { clipWeights(discriminatorOptimizer.parameters, to: clip) }
    }

    private func record(loss: Float, realOutputs: Tensor, fakeOutputs: Tensor, into metrics: inout StepMetrics) {
        metrics.discriminatorLoss = loss
        if configuration.loss.isCritic {
            let realMean = realOutputs.mean(), fakeMean = fakeOutputs.mean()
            metrics.realScore = realMean
            metrics.fakeScore = fakeMean
            metrics.realAccuracy = realOutputs.fraction { $0 > fakeMean }
            metrics.fakeAccuracy = fakeOutputs.fraction { $0 < realMean }
            return
        }
        let realScores = score(realOutputs), fakeScores = score(fakeOutputs)
        metrics.realScore = realScores.mean()
        metrics.fakeScore = fakeScores.mean()
        metrics.realAccuracy = realScores.fraction { $0 > 0.5 }
        metrics.fakeAccuracy = fakeScores.fraction { $0 < 0.5 }
    }

    /// D's outputs as scores: probabilities for the cross-entropy families, the outputs themselves otherwise.
    private func score(_ outputs: Tensor) -> Tensor {
        configuration.loss.outputIsLogit ? outputs.sigmoid() : outputs
    }

    // MARK: Rounds of the game

    /// One round of the game as the configuration's schedule says, real batches drawn from
    /// `realBatch(count, &random)` and noise from `random`.
    public func round(realBatch: (Int, inout RandomSource) -> Tensor, into metrics: inout StepMetrics, using random: inout RandomSource,
                      observe: UpdateObserver = { _, _, _, update in update() }) {
        let count = configuration.samplesPerUpdate
        switch configuration.schedule {
        case .alternating(let discriminatorSteps):
            var real = Tensor(shape: [0])
            for _ in 0..<max(discriminatorSteps, 1) {
                real = realBatch(count, &random)
                let noise = sampleNoise(matching: real, using: &random)
                observe(.discriminator, real, noise) { discriminatorStep(real: real, fake: fakesForDiscriminator(from: noise), into: &metrics, using: &random) }
            }
            let noise = sampleNoise(matching: real, using: &random)
            observe(.generator, real, noise) { generatorStep(noise: noise, into: &metrics) }
        case .phases(let discriminatorSteps, let generatorSteps):
            let real = realBatch(count, &random), noise = sampleNoise(matching: real, using: &random)
            for _ in 0..<discriminatorSteps {
                observe(.discriminator, real, noise) { discriminatorStep(real: real, fake: fakesForDiscriminator(from: noise), into: &metrics, using: &random) }
            }
            for _ in 0..<generatorSteps {
                observe(.generator, real, noise) { generatorStep(noise: noise, into: &metrics) }
            }
        case .joint:
            let real = realBatch(count, &random), noise = sampleNoise(matching: real, using: &random)
            observe(.both, real, noise) { jointStep(real: real, noise: noise, into: &metrics, using: &random) }
        case .sharedFakes:
            let real = realBatch(count, &random), noise = sampleNoise(matching: real, using: &random)
            observe(.both, real, noise) {
                // G's graph lives inside the closure, so it is freed before G's update.
                let parameterGradients = { () -> [ParameterGradient] in
                    let samples = labelled(generator(Variable(noise)), noise: noise)
                    discriminatorStep(real: real, fake: samples.value, into: &metrics, using: &random)
                    return generatorGradients(samples: samples, into: &metrics)
                }()
                generatorOptimizer.update(with: parameterGradients)
            }
        }
    }

    /// One update of one network alone, on a fresh batch (step mode's d and g): it measures
    /// nothing of the other network (NaN in the returned metrics). `both` is one joint update.
    public func singleUpdate(_ network: UpdatedNetwork, realBatch: (Int, inout RandomSource) -> Tensor, using random: inout RandomSource,
                             observe: UpdateObserver = { _, _, _, update in update() }) -> StepMetrics {
        var metrics = StepMetrics.measuring(network)
        let count = configuration.samplesPerUpdate
        let real = realBatch(count, &random), noise = sampleNoise(matching: real, using: &random)
        observe(network, real, noise) {
            switch network {
            case .discriminator: discriminatorStep(real: real, fake: fakesForDiscriminator(from: noise), into: &metrics, using: &random)
            case .generator: generatorStep(noise: noise, into: &metrics)
            case .both: jointStep(real: real, noise: noise, into: &metrics, using: &random)
            }
        }
        return metrics
    }

    /// The TensorFlow 2 tutorial's `train_step`: one forward pass of G feeds both losses; both
    /// gradients are taken at the same parameters and then both optimizers step.
    public func jointStep(real: Tensor, noise: Tensor, into metrics: inout StepMetrics, using random: inout RandomSource) {
        let (generatorUpdate, discriminatorUpdate) = { () -> ([ParameterGradient], [ParameterGradient]) in
            let samples = labelled(generator(Variable(noise)), noise: noise)  // recorded: G's loss reaches G through it
            let realInput = packed(real), fake = packed(samples)
            let fakeOutputs = discriminator(fake)
            let discriminatorLoss = discriminatorLoss(realOutputs: discriminator(Variable(realInput)), fakeOutputs: fakeOutputs,
                                                      realInput: realInput, fakeInput: fake.value, into: &metrics, using: &random)
            let generatorLoss = configuration.loss.generatorLoss(fake: fakeOutputs)
            metrics.generatorLoss = generatorLoss.value.scalar
            metrics.generatorStepFakeScore = metrics.fakeScore
            return (gradientsForUpdate(of: generatorLoss, at: generatorOptimizer.parameters.map(\.variable)),
                    gradientsForUpdate(of: discriminatorLoss, at: discriminatorOptimizer.parameters.map(\.variable)))
        }()
        generatorOptimizer.update(with: generatorUpdate)
        applyDiscriminatorUpdate(discriminatorUpdate)
    }

    /// Both learning rates at `step` of `total` when they fall linearly to `decayTo` of their start.
    public func scheduleLearningRates(step: Int, of total: Int, decayTo: Float) {
        guard decayTo < 1 else { return }
        let fraction = 1 - (1 - decayTo) * Float(step) / Float(max(total, 1))
        generatorOptimizer.learningRate = configuration.generatorOptimizer.learningRate * fraction
        discriminatorOptimizer.learningRate = configuration.discriminatorOptimizer.learningRate * fraction
    }

    // MARK: Conditioning on labels

    /// G's input for these noise vectors [n, latent] and labels: each row followed by its one-hot label.
    public func conditionedNoise(_ z: Tensor, labels: [Int]) -> Tensor {
        precondition(configuration.classes > 0, "only a conditional GAN's noise carries labels")
        return Self.conditionedNoise(z, labels: labels, classes: configuration.classes)
    }

    /// [z | one-hot label] for a generator conditioned on `classes` (a checkpoint's, too).
    public static func conditionedNoise(_ z: Tensor, labels: [Int], classes: Int) -> Tensor {
        precondition(labels.count == z.shape[0], "one label per noise vector")
        return Tensor.concatenated([z, oneHot(labels, classes: classes)], alongAxis: 1)
    }

    /// The labels a conditional GAN's noise asks for (its last `classes` numbers, one-hot).
    public func labels(ofNoise noise: Tensor) -> [Int] {
        Self.oneHotLabels(noise, classes: configuration.classes, start: noise.shape[1] - configuration.classes, stride: 1)
    }

    /// The labels of D's input samples [n, C + classes, H, W]: their one-hot channels, read at the first pixel.
    public func labels(ofSamples samples: Tensor) -> [Int] {
        let plane = samples.shape[2...].reduce(1, *)
        return Self.oneHotLabels(samples, classes: configuration.classes, start: (samples.shape[1] - configuration.classes) * plane, stride: plane)
    }

    /// Each row's label: the largest of `classes` numbers `stride` apart from `start` within the row
    /// (read in place: the hot loop asks for the labels of every real batch).
    private static func oneHotLabels(_ rows: Tensor, classes: Int, start: Int, stride: Int) -> [Int] {
        let width = rows.count / max(rows.shape[0], 1)
        return rows.withUnsafeBufferPointer { values in
            (0..<rows.shape[0]).map { row in
                let first = row * width + start
                return (0..<classes).max { values[first + $0 * stride] < values[first + $1 * stride] }!
            }
        }
    }

    /// Images [n, C, H, W] as D reads them: followed by `classes` channels, one of them all ones
    /// (the sample's label), the others zeros.
    public static func labelled(_ images: Tensor, labels: [Int], classes: Int) -> Tensor {
        Tensor.concatenated([images, labelMaps(labels, classes: classes, like: images.shape)], alongAxis: 1)
    }

    /// D's input for G's samples: the images with the labels the noise asked for (unconditional: the images).
    public func labelled(_ images: Tensor, noise: Tensor) -> Tensor {
        guard configuration.classes > 0 else { return images }
        return Self.labelled(images, labels: labels(ofNoise: noise), classes: configuration.classes)
    }

    func labelled(_ images: Variable, noise: Tensor) -> Variable {
        guard configuration.classes > 0 else { return images }
        let maps = Self.labelMaps(labels(ofNoise: noise), classes: configuration.classes, like: images.shape)
        return Variable.concatenated([images, Variable(maps)], alongAxis: 1)
    }

    private static func labelMaps(_ labels: [Int], classes: Int, like shape: [Int]) -> Tensor {
        precondition(shape.count == 4 && labels.count == shape[0], "labels go with images [n, C, H, W], one each")
        let plane = shape[2] * shape[3]
        var maps = Tensor(shape: [shape[0], classes, shape[2], shape[3]])
        maps.withUnsafeMutableBufferPointer { values in
            for (n, label) in labels.enumerated() {
                let start = (n * classes + label) * plane
                for i in start..<start + plane { values[i] = 1 }
            }
        }
        return maps
    }

    // MARK: Packing and labels

    /// [n, …] samples as [n / packSize, …·packSize] packs (consecutive samples side by side).
    public func packed(_ samples: Tensor) -> Tensor {
        let m = configuration.packSize
        guard m > 1 else { return samples }
        let (n, d) = (samples.shape[0], samples.count / max(samples.shape[0], 1))
        precondition(n % m == 0, "\(n) samples do not split into packs of \(m)")
        return samples.reshaped(to: [n / m, d * m])
    }

    func packed(_ samples: Variable) -> Variable {
        let m = configuration.packSize
        guard m > 1 else { return samples }
        let (n, d) = (samples.shape[0], samples.value.count / max(samples.shape[0], 1))
        precondition(n % m == 0, "\(n) samples do not split into packs of \(m)")
        return samples.reshaped(to: [n / m, d * m])
    }

    /// D-step targets for `count` samples whose label is `value`, softened and flipped as configured.
    func labels(count: Int, value: Float, using random: inout RandomSource) -> Tensor {
        let (noise, soft) = (configuration.labelNoise, configuration.softLabels)
        var result: Tensor
        if noise > 0 {
            result = Tensor.uniform(shape: [count, 1], low: -noise, high: noise, using: &random) + value
        } else if soft > 0 {
            let low = value >= 0.5 ? value - soft : value  // inward from each end: [1 − s, 1] and [0, s]
            result = Tensor.uniform(shape: [count, 1], low: low, high: low + soft, using: &random)
        } else {
            result = Tensor(shape: [count, 1], repeating: value)
        }
        let flip = Double(configuration.labelFlip)
        guard flip > 0 else { return result }
        let flipped: Float = value >= 0.5 ? 0 : configuration.realLabel
        result.withUnsafeMutableBufferPointer { labels in
            for i in labels.indices where random.nextUnit() < flip { labels[i] = flipped }
        }
        return result
    }
}
