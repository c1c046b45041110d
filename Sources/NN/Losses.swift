import Foundation
import Autodiff
import Kernels

/// Mean binary cross-entropy of `logits` against `targets` in [0, 1] (or noisy labels),
/// computed stably as softplus(x) − x·t: −[t·log σ(x) + (1−t)·log(1−σ(x))].
///
/// One recorded operation rather than five (softplus, product, difference, sum, scale), with
/// the bits of those five: the loss sums softplus(x) − x·t in Double and scales the sum by 1/N,
/// and the gradient is (g/N)·σ(x) + (−g/N)·t, the two paths' terms the five operations' pullbacks
/// would add. A pullback recorded for a higher derivative is built from the five.
public func binaryCrossEntropy(logits: Variable, targets: Tensor) -> Variable {
    guard logits.shape == targets.shape else { return (logits.softplus() - logits * targets).mean() }
    let x = logits.value, softplus = x.softplus(), count = x.count, scale = 1 / Float(max(count, 1))
    let (s, xs, ts) = (softplus.storage.pointer, x.storage.pointer, targets.storage.pointer)
    var sum = 0.0
    withExtendedLifetime(softplus) { for i in 0..<count { sum += Double(s[i] - xs[i] * ts[i]) } }
    return Variable.record(Tensor(Float(sum) * scale), parents: [logits]) { g, _, _ in
        guard !GradientRecording.isEnabled else {
            let upstream = (g * scale).broadcasted(to: x.shape)
            return [upstream * logits.sigmoid() + (-upstream) * targets]
        }
        let upstream = g.value.scalar * scale + 0  // the sum's pullback broadcasts it onto zeros
        var gradient = x.sigmoid()  // fresh, so unshared
        gradient.withUnsafeMutableBufferPointer { d in
            let t = targets.storage.pointer
            for i in 0..<count { d[i] = upstream * d[i] + (-upstream) * t[i] }
        }
        return [Variable(gradient)]
    }
}

/// How the labels of a BCE loss are softened.
public struct LabelOptions: Equatable {
    /// Keras's `label_smoothing` s: t ← t·(1 − s) + s/2.
    public var smoothing: Float
    /// One-sided smoothing: real labels (t = 1) become this value (0.9 in the tutorials); 1 = off.
    public var realLabel: Float
    /// Half-width of uniform noise added to every label (0.1 ⇒ 1 ± 0.1 and 0 ± 0.1).
    public var noise: Float

    public init(smoothing: Float = 0, realLabel: Float = 1, noise: Float = 0) {
        self.smoothing = smoothing
        self.realLabel = realLabel
        self.noise = noise
    }

    /// The targets for `count` samples whose true label is `label` (0 or 1).
    public func targets(count: Int, label: Float, using random: inout RandomSource) -> Tensor {
        var value = label == 1 ? realLabel : label
        value = value * (1 - smoothing) + smoothing / 2
        guard noise > 0 else { return Tensor(shape: [count, 1], repeating: value) }
        return Tensor.uniform(shape: [count, 1], low: -noise, high: noise, using: &random) + value
    }
}

/// Mean BCE of `logits` [N, 1] whose true label is `label` (1 real, 0 fake), labels softened by `options`.
public func binaryCrossEntropy(logits: Variable, label: Float, options: LabelOptions,
                               using random: inout RandomSource) -> Variable {
    binaryCrossEntropy(logits: logits, targets: options.targets(count: logits.shape[0], label: label, using: &random))
}

/// Mean squared error.
public func meanSquaredError(_ prediction: Variable, _ target: Tensor) -> Variable {
    let difference = prediction - target
    return (difference * difference).mean()
}

/// Mean hinge loss max(0, 1 − t·x) for targets t of −1 and 1.
public func hingeLoss(_ prediction: Variable, targets: Tensor) -> Variable {
    (1 - prediction * targets).relu().mean()
}

/// The Wasserstein critic's loss mean(D(fake)) − mean(D(real)), minimised by the critic.
public func wassersteinCriticLoss(real: Variable, fake: Variable) -> Variable {
    fake.mean() - real.mean()
}

/// WGAN-GP's penalty mean((‖∂D/∂x̂‖₂ − 1)²) at the interpolates x̂, whatever their rank (points
/// [N, d] or images [N, C, H, W]: the norm is over everything but the batch axis); λ not applied.
/// The norm is √(s + 10⁻¹²) written as exp(½·log(·)), so that it has gradients of every order and
/// none is infinite where a gradient vanishes.
public func gradientPenalty(critic: (Variable) -> Variable, interpolates: Tensor) -> Variable {
    let input = Variable.leaf(interpolates)
    let inputGradient = differentiableGradients(of: critic(input).sum(), at: [input])[0]
    let axes = Array(1..<inputGradient.rank)
    let squaredNorms = (inputGradient * inputGradient).summed(alongAxes: axes)
    let norms = ((squaredNorms + 1e-12).log() * 0.5).exp()
    let distance = norms - 1
    return (distance * distance).mean()
}

/// Mean cross-entropy of class logits [N, C] against integer labels, −mean log softmax(x)ᵢ[labelᵢ],
/// computed stably as log Σ exp(x − m) − (x − m)[label] with m each row's largest logit (a
/// constant: it cancels, so no gradient flows through it). PyTorch's `cross_entropy`.
public func softmaxCrossEntropy(logits: Variable, labels: [Int]) -> Variable {
    let (n, c) = (logits.shape[0], logits.shape[1])
    precondition(labels.count == n && labels.allSatisfy { (0..<c).contains($0) }, "labels must be \(n) classes in 0..<\(c)")
    let shifted = logits - logits.value.maximum(alongAxes: [1])
    let logSumExp = shifted.exp().summed(alongAxes: [1]).log()
    return (logSumExp - (shifted * oneHot(labels, classes: c)).summed(alongAxes: [1])).mean()
}

/// Labels as one-hot rows [n, classes].
public func oneHot(_ labels: [Int], classes: Int) -> Tensor {
    var rows = Tensor(shape: [labels.count, classes])
    rows.withUnsafeMutableBufferPointer { values in
        for (n, label) in labels.enumerated() {
            precondition((0..<classes).contains(label), "label \(label) outside 0..<\(classes)")
            values[n * classes + label] = 1
        }
    }
    return rows
}

extension Tensor {
    /// Each row of logits [N, C] as probabilities, softmax(x) = exp(x − m) / Σ exp(x − m).
    public func softmaxRows() -> Tensor {
        let c = shape[1]
        var result = self - maximum(alongAxes: [1])
        result.withUnsafeMutableBufferPointer { values in
            for row in 0..<(values.count / c) {
                var sum: Float = 0
                for i in row * c..<(row + 1) * c {
                    values[i] = Foundation.exp(values[i])
                    sum += values[i]
                }
                for i in row * c..<(row + 1) * c { values[i] /= sum }
            }
        }
        return result
    }
}
