import Foundation
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

/// One network's optimizer, with the framework whose conventions it follows named.
public struct OptimizerConfiguration: Equatable {
    public enum Kind: String, CaseIterable { case adam, rmsprop, sgd }

    /// Whose formulas: Keras puts Adam's ε before bias correction and RMSProp's ε inside the root;
    /// PyTorch puts both outside; TensorFlow 1 is Keras's Adam and an RMSProp whose mean square starts at 1.
    public enum Convention: String, CaseIterable { case keras, pytorch, tensorflow1 }

    public var kind = Kind.adam
    public var convention = Convention.keras
    public var learningRate: Float = 2e-4
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-7
    /// RMSProp's decay of the mean square.
    public var rho: Float = 0.9
    /// SGD's heavy-ball momentum.
    public var momentum: Float = 0

    public init() {}

    public func make(for parameters: [Parameter]) -> Optimizer {
        switch kind {
        case .adam:
            return Adam(parameters: parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
                        convention: convention == .pytorch ? .pytorch : .keras)
        case .rmsprop:
            return RMSProp(parameters: parameters, learningRate: learningRate, rho: rho, epsilon: epsilon,
                           epsilonInsideRoot: convention != .pytorch, initialMeanSquare: convention == .tensorflow1 ? 1 : 0)
        case .sgd:
            return SGD(parameters: parameters, learningRate: learningRate, momentum: momentum)
        }
    }

    /// "adam lr 2e-4, β1 0.5 (Keras)" for the terminal.
    public var summary: String {
        var text = "\(kind.rawValue) lr \(compact(learningRate))"
        switch kind {
        case .adam: text += ", β1 \(compact(beta1)), β2 \(compact(beta2))"
        case .rmsprop: text += ", ρ \(compact(rho))"
        case .sgd: if momentum > 0 { text += ", momentum \(compact(momentum))" }
        }
        return text + (kind == .sgd ? "" : " (\(convention.rawValue)'s ε \(compact(epsilon)))")
    }
}

/// How one round of the game updates the two networks.
public enum UpdateSchedule: Equatable {
    /// `discriminatorSteps` D updates, each on a fresh real batch and fresh noise, then one G update
    /// on fresh noise (Goodfellow et al.'s algorithm 1; the Keras tutorials' `train_on_batch` loop).
    case alternating(discriminatorSteps: Int)
    /// One forward pass of G feeds both losses; both gradients are taken at the same parameters and
    /// then both optimizers step (the TensorFlow 2 DCGAN tutorial's `train_step`).
    case joint
    /// One forward pass of G feeds both updates: D on the detached fakes, then G through the
    /// updated D (PyTorch's DCGAN example).
    case sharedFakes
    /// On one real batch and one noise batch, `discriminatorSteps` D updates and then
    /// `generatorSteps` G updates (the TensorFlow 1 quadratic-curve tutorial's iteration).
    case phases(discriminatorSteps: Int, generatorSteps: Int)

    /// How D's loss joins its halves under this schedule: the Keras loop averages them (one
    /// `train_on_batch` on both), the TensorFlow and PyTorch loops add them.
    public var halvesCombination: HalvesCombination {
        if case .alternating = self { return .average }
        return .sum
    }
}

/// How a D step takes its real and its fake half.
public enum DiscriminatorHalves: String, Equatable, CaseIterable {
    /// One update on one loss that joins both halves.
    case together
    /// Keras's `train_on_batch` twice: one update on the real half, then one on the fake half,
    /// each on its own loss (the Fashion-MNIST tutorial's loop); the step reports their average.
    case separately
}

/// The mode a network runs in: batch normalisation on the batch's statistics (and updating its
/// running ones) and dropout on, or on the running statistics with dropout off.
public enum NetworkMode: String, Equatable, CaseIterable {
    case training
    /// Keras's `predict`: what the Fashion-MNIST tutorial makes D's fakes with.
    case inference
}

extension Sequential {
    /// `body`'s result with the network in `mode`, then back in the mode it was in.
    public func running<T>(in mode: NetworkMode, _ body: () -> T) -> T {
        let wasTraining = isTraining
        isTraining = mode == .training
        defer { isTraining = wasTraining }
        return body()
    }
}

/// Everything that decides how a GAN trains, besides its two networks.
public struct GANConfiguration: Equatable {
    public var batchSize = 64
    public var noise = NoiseDistribution.uniform(low: -1, high: 1)
    /// What D and G minimise (non-saturating BCE unless set).
    public var loss = LossFamily.nonSaturating
    /// The update schedule; setting it also sets `halvesCombination` to the schedule's own.
    public var schedule = UpdateSchedule.alternating(discriminatorSteps: 1) {
        didSet { halvesCombination = schedule.halvesCombination }
    }
    /// How D's loss joins its real and fake halves (as the schedule's tutorial does unless set after it).
    public var halvesCombination: HalvesCombination
    public var generatorOptimizer = OptimizerConfiguration()
    public var discriminatorOptimizer = OptimizerConfiguration()
    /// Target for real samples in the D step (1; 0.9 is one-sided label smoothing).
    public var realLabel: Float = 1
    /// Half-width of uniform noise added to every D-step label (0.1 ⇒ labels 1 ± 0.1 and 0 ± 0.1).
    public var labelNoise: Float = 0
    /// Seed 001's uniform label smoothing: real targets drawn from U[realLabel − s, realLabel] and fake
    /// ones from U[0, s] at every D step (0.1 ⇒ [0.9, 1] and [0, 0.1]); 0 = off.
    public var softLabels: Float = 0
    /// Probability that a D-step label is flipped (real called fake and fake called real): "noisy labels".
    public var labelFlip: Float = 0
    /// PacGAN's packing: D judges packs of this many samples, concatenated into one input row.
    public var packSize = 1
    /// Whether a D step is one update on both halves or two, real then fake.
    public var discriminatorHalves = DiscriminatorHalves.together
    /// The mode G makes D's fakes in (the G step always runs G in training mode).
    public var fakesMode = NetworkMode.training
    /// A conditional GAN's classes (0: unconditional). G reads each sample's one-hot label after its
    /// noise (the trainer's noise is then [z | one-hot]); D reads it as this many constant channels
    /// after the image's. Fakes are asked for the labels of the real batch beside them.
    public var classes = 0

    public init(schedule: UpdateSchedule = .alternating(discriminatorSteps: 1)) {
        self.schedule = schedule
        halvesCombination = schedule.halvesCombination
    }

    /// D updates per round.
    public var discriminatorSteps: Int {
        switch schedule {
        case .alternating(let steps), .phases(let steps, _): return steps
        case .joint, .sharedFakes: return 1
        }
    }

    /// The samples one update draws: a batch of packs.
    public var samplesPerUpdate: Int { batchSize * packSize }
}

private func compact(_ value: Float) -> String {
    let text = "\(value)"
    return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
}

/// `count` points from `start` to `end` (both included), evenly spaced in t: linear, or spherical
/// (slerp: along the great circle, the norm interpolated linearly), which keeps points drawn from
/// N(0, I) at the norms such noise has, where a straight line would cut through the middle.
public func interpolate(from start: [Float], to end: [Float], count: Int, spherical: Bool) -> [[Float]] {
    precondition(start.count == end.count && count >= 2, "interpolation needs two points of one size and at least two steps")
    let norm = { (v: [Float]) in v.reduce(0) { $0 + $1 * $1 }.squareRoot() }
    let (startNorm, endNorm) = (norm(start), norm(end))
    let cosine = zip(start, end).reduce(0) { $0 + $1.0 * $1.1 } / max(startNorm * endNorm, .leastNormalMagnitude)
    let angle = acos(min(max(cosine, -1), 1))
    return (0..<count).map { index in
        let t = Float(index) / Float(count - 1)
        guard spherical, angle > 1e-4, startNorm > 0, endNorm > 0 else {
            return zip(start, end).map { $0 + t * ($1 - $0) }
        }
        // Directions by slerp, length by linear interpolation of the two norms.
        let (a, b) = (sin((1 - t) * angle) / sin(angle), sin(t * angle) / sin(angle))
        let direction = zip(start, end).map { a * $0 / startNorm + b * $1 / endNorm }
        let length = startNorm + t * (endNorm - startNorm)
        return direction.map { $0 * length }
    }
}
