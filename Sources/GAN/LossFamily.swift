import Autodiff
import Kernels
import NN

/// What the discriminator (or critic) and the generator minimise.
public enum LossFamily: Equatable {
    /// Binary cross-entropy for D; the generator maximises log D(G(z)) (Goodfellow et al.'s practical form).
    case nonSaturating
    /// Binary cross-entropy for D; the generator minimises log(1 − D(G(z))), the game as first written
    /// (Goodfellow et al. 2014), whose gradient vanishes while D rejects the fakes confidently.
    case minimax
    /// Least squares (Mao et al. 2017): D minimises (D(x) − 1)² and D(G(z))², each averaged over its
    /// batch; G minimises ½·mean (D(G(z)) − 1)². D's output is a score, not a logit.
    case leastSquares
    /// Hinge (Lim & Ye 2017; Miyato et al. 2018): the critic minimises mean max(0, 1 − D(x)) +
    /// mean max(0, 1 + D(G(z))); G minimises −mean D(G(z)).
    case hinge
    /// WGAN: the critic minimises mean D(G(z)) − mean D(x), its weights clipped to [−clip, clip] after
    /// every update; the generator minimises −mean D(G(z)) (Arjovsky et al. 2017).
    case wasserstein(clip: Float)
    /// WGAN-GP: the same critic objective plus weight·(‖∇D(x̂)‖₂ − 1)² at random interpolates x̂
    /// between real and generated samples, with no clipping (Gulrajani et al. 2017).
    case wassersteinGradientPenalty(weight: Float)

    /// Whether D's output is a logit whose sigmoid is a probability (the cross-entropy families).
    public var outputIsLogit: Bool { self == .nonSaturating || self == .minimax }

    /// Whether D outputs an unbounded critic value judged only relative to the other batch's.
    public var isCritic: Bool {
        switch self {
        case .nonSaturating, .minimax, .leastSquares: return false
        case .hinge, .wasserstein, .wassersteinGradientPenalty: return true
        }
    }

    /// Whether D's loss compares outputs with targets (so label smoothing, noise and flips apply).
    public var usesTargets: Bool { !isCritic }

    /// D's loss on the two halves of its batch. `combination` joins the halves of the
    /// target-based families; the critics' losses are sums as their papers write them.
    func discriminatorLoss(real: Variable, fake: Variable, realTargets: Tensor, fakeTargets: Tensor,
                           combination: HalvesCombination) -> Variable {
        switch self {
        case .nonSaturating, .minimax, .leastSquares:
            return combination.join(halfLoss(real, targets: realTargets), halfLoss(fake, targets: fakeTargets))
        case .hinge:
            return hingeLoss(real, targets: Tensor(shape: real.shape, repeating: 1)) + hingeLoss(fake, targets: Tensor(shape: fake.shape, repeating: -1))
        case .wasserstein, .wassersteinGradientPenalty:
            return wassersteinCriticLoss(real: real, fake: fake)  // −(estimate of the Wasserstein-1 distance)
        }
    }

    /// D's loss on one half of its batch against its targets (the target-based families only):
    /// binary cross-entropy from logits, or the squared error.
    func halfLoss(_ outputs: Variable, targets: Tensor) -> Variable {
        precondition(usesTargets, "a critic's loss has no halves of its own")
        return self == .leastSquares ? meanSquaredError(outputs, targets) : binaryCrossEntropy(logits: outputs, targets: targets)
    }

    /// G's loss on D's outputs for its samples.
    func generatorLoss(fake: Variable) -> Variable {
        switch self {
        case .nonSaturating:
            return binaryCrossEntropy(logits: fake, targets: Tensor(shape: fake.shape, repeating: 1))  // −log D(G(z))
        case .minimax:
            return -binaryCrossEntropy(logits: fake, targets: Tensor(shape: fake.shape))  // log(1 − D(G(z)))
        case .leastSquares:
            return meanSquaredError(fake, Tensor(shape: fake.shape, repeating: 1)) * 0.5
        case .hinge, .wasserstein, .wassersteinGradientPenalty:
            return -fake.mean()
        }
    }
}

/// How D's loss joins its real half and its fake half: their sum (the TensorFlow tutorials add
/// the two cross-entropies, so an undecided D sits at 2·log 2 ≈ 1.39) or their average (Keras's
/// `train_on_batch` on the two halves as one batch, ≈ 0.69).
public enum HalvesCombination: String, Equatable {
    case sum, average

    func join(_ real: Variable, _ fake: Variable) -> Variable {
        self == .sum ? real + fake : (real + fake) * 0.5
    }
}

/// The critic's gradient penalty: weight · mean over samples of (‖∇ₓ D(x̂)‖₂ − 1)², with
/// x̂ = ε·real + (1 − ε)·fake and ε ~ U[0, 1] drawn once per sample, whatever the sample's rank
/// (a point, or an image [C, H, W]). The gradient is itself recorded, so the penalty can be
/// differentiated for D's parameters.
public func gradientPenalty(critic: (Variable) -> Variable, real: Tensor, fake: Tensor, weight: Float,
                            using random: inout RandomSource) -> Variable {
    var mixingShape = [Int](repeating: 1, count: real.rank)
    mixingShape[0] = real.shape[0]
    let mixing = Tensor.uniform(shape: mixingShape, low: 0, high: 1, using: &random)
    let interpolates = real * mixing + fake * (1 - mixing)
    return gradientPenalty(critic: critic, interpolates: interpolates) * weight
}

extension Tensor {
    /// 1 − self, elementwise.
    static func - (s: Float, a: Tensor) -> Tensor { a.mapped { s - $0 } }
}

/// Keeps every parameter within [−limit, limit] (WGAN's weight clipping), after an update.
public func clipWeights(_ parameters: [Parameter], to limit: Float) {
    for parameter in parameters {
        parameter.value.withUnsafeMutableBufferPointer { values in
            for i in values.indices { values[i] = min(max(values[i], -limit), limit) }
        }
    }
}
