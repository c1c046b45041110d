import Autodiff
import Kernels
import NN

// What the views read from D.

extension GANTrainer {
    /// The discriminator's last hidden layer (everything before its final Dense layer) for each sample.
    public func discriminatorFeatures(_ samples: Tensor) -> Tensor {
        withoutGradients {
            discriminator.layers.dropLast().reduce(Variable(samples)) { $1($0) }.value
        }
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
