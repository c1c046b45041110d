import Autodiff
import Kernels
import NN

// What the views read from D.

extension GANTrainer {
    /// The discriminator's last hidden layer (everything before its final Dense layer) for each
    /// sample, flattened to one row a sample.
    public func discriminatorFeatures(_ samples: Tensor) -> Tensor {
        let layers = discriminator.layers
        let last = layers.lastIndex { $0 is Dense } ?? layers.count - 1
        let features = withoutGradients { layers[..<last].reduce(Variable(samples)) { $1($0) }.value }
        return features.reshaped(to: [features.shape[0], features.count / max(features.shape[0], 1)])
    }

    /// D's final Dense layer as its logit reads the features: logit = features · weight + bias.
    /// Nil when D does not end in one Dense output.
    public var discriminatorDecision: (weight: [Float], bias: Float)? {
        guard let dense = discriminator.layers.last(where: { $0 is Dense }) as? Dense, dense.outputSize == 1 else { return nil }
        return (dense.effectiveWeight.scalars, dense.bias?.value.scalars[0] ?? 0)  // W / σ when spectral
    }

    /// ∇ₓ log D(x) at each sample: the direction in which the generator's loss falls fastest,
    /// i.e. where D says a fake point should move to look more real.
    public func discriminatorPush(at samples: Tensor) -> Tensor {
        let input = Variable.leaf(samples)
        let logits = discriminator(input)
        let logScore = -logits.softplus() + logits  // log σ(ℓ) = ℓ − softplus(ℓ)
        return gradients(of: logScore.sum(), at: [input])[0]
    }
}
