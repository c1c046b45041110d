import Autodiff
import Kernels
import NN

/// What the discriminator (or critic) and the generator minimise.
public enum LossFamily: Equatable {
    /// Binary cross-entropy for D; the generator maximises log D(G(z)) (Goodfellow et al.'s practical form).
    case nonSaturating
    /// WGAN: the critic minimises mean D(G(z)) − mean D(x), its weights clipped to [−clip, clip] after
    /// every update; the generator minimises −mean D(G(z)) (Arjovsky et al. 2017).
    case wasserstein(clip: Float)
    /// WGAN-GP: the same critic objective plus weight·(‖∇D(x̂)‖₂ − 1)² at random interpolates x̂
    /// between real and generated samples, with no clipping (Gulrajani et al. 2017).
    case wassersteinGradientPenalty(weight: Float)

    /// Whether D outputs an unbounded critic value rather than a logit.
    public var isCritic: Bool { self != .nonSaturating }
}

/// The critic's gradient penalty: weight · mean over samples of (‖∇ₓ D(x̂)‖₂ − 1)², with
/// x̂ = ε·real + (1 − ε)·fake and ε ~ U[0, 1] drawn once per sample (row).
/// The gradient is itself recorded, so the penalty can be differentiated for D's parameters.
public func gradientPenalty(critic: (Variable) -> Variable, real: Tensor, fake: Tensor, weight: Float,
                            using random: inout RandomSource) -> Variable {
    let mixing = Tensor.uniform(shape: [real.shape[0], 1], low: 0, high: 1, using: &random)
    let interpolates = real * mixing + fake * (1 - mixing)
    return gradientPenalty(critic: critic, at: interpolates, weight: weight)
}

/// weight · mean over rows of (‖∇ₓ D(x)‖₂ − 1)² at the given points [n, d].
public func gradientPenalty(critic: (Variable) -> Variable, at points: Tensor, weight: Float) -> Variable {
    let input = Variable.leaf(points)
    let inputGradient = differentiableGradients(of: critic(input).sum(), at: [input])[0]  // [n, d]
    let squaredNorm = (inputGradient * inputGradient).summed(alongAxes: [1])            // [n, 1]
    let norm = squareRoot(squaredNorm + 1e-12)
    let excess = norm - 1
    return (excess * excess).mean() * weight
}

/// √x composed from exp and log (x > 0), so that it has gradients of every order.
func squareRoot(_ x: Variable) -> Variable { (x.log() * 0.5).exp() }

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
