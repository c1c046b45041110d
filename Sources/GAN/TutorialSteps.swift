import Autodiff
import Kernels
import NN

// The update rules of the toy-data tutorials, on explicit batches, and what the views read from D.
// As in both tutorials, the discriminator's loss is the sum of its two cross-entropies,
// BCE(D(x), 1) + BCE(D(G(z)), 0), so it sits at 2·log 2 ≈ 1.39 when D cannot tell.

extension GANTrainer {
    /// The tutorial's `train_step`: one forward pass of G feeds both losses; both gradients are
    /// taken at the same parameters and then both optimizers step (a simultaneous update).
    public func jointStep(real: Tensor, noise: Tensor, into metrics: inout StepMetrics) {
        let fake = generator(Variable(noise))  // [batch, 2], recorded: G's loss reaches G through it
        let realLogits = discriminator(Variable(real))
        let fakeLogits = discriminator(fake)
        let ones = Tensor(shape: fakeLogits.shape, repeating: 1), zeros = Tensor(shape: fakeLogits.shape)
        let generatorLoss = binaryCrossEntropy(logits: fakeLogits, targets: ones)  // −log D(G(z))
        let discriminatorLoss = binaryCrossEntropy(logits: realLogits, targets: ones)
            + binaryCrossEntropy(logits: fakeLogits, targets: zeros)
        let generatorGradients = gradients(of: generatorLoss, at: generatorOptimizer.parameters.map(\.variable))
        let discriminatorGradients = gradients(of: discriminatorLoss, at: discriminatorOptimizer.parameters.map(\.variable))
        generatorOptimizer.update(with: generatorGradients)
        discriminatorOptimizer.update(with: discriminatorGradients)
        record(realLogits.value, fakeLogits.value, discriminatorLoss: discriminatorLoss.value.scalar, into: &metrics)
        metrics.generatorLoss = generatorLoss.value.scalar
    }

    /// One discriminator update on a real batch and G(noise), detached:
    /// minimise BCE(D(x), 1) + BCE(D(G(z)), 0).
    public func discriminatorUpdate(real: Tensor, noise: Tensor, into metrics: inout StepMetrics) {
        let fake = generate(from: noise)
        let realLogits = discriminator(Variable(real)), fakeLogits = discriminator(Variable(fake))
        let loss = binaryCrossEntropy(logits: realLogits, targets: Tensor(shape: realLogits.shape, repeating: 1))
            + binaryCrossEntropy(logits: fakeLogits, targets: Tensor(shape: fakeLogits.shape))
        discriminatorOptimizer.update(with: gradients(of: loss, at: discriminatorOptimizer.parameters.map(\.variable)))
        record(realLogits.value, fakeLogits.value, discriminatorLoss: loss.value.scalar, into: &metrics)
    }

    /// One generator update on the given noise, non-saturating: minimise BCE(D(G(z)), 1).
    public func generatorUpdate(noise: Tensor, into metrics: inout StepMetrics) {
        let fakeLogits = discriminator(generator(Variable(noise)))
        let loss = binaryCrossEntropy(logits: fakeLogits, targets: Tensor(shape: fakeLogits.shape, repeating: 1))
        generatorOptimizer.update(with: gradients(of: loss, at: generatorOptimizer.parameters.map(\.variable)))
        metrics.generatorLoss = loss.value.scalar
    }

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

    private func record(_ realLogits: Tensor, _ fakeLogits: Tensor, discriminatorLoss: Float, into metrics: inout StepMetrics) {
        let realScores = realLogits.sigmoid(), fakeScores = fakeLogits.sigmoid()
        metrics.discriminatorLoss = discriminatorLoss
        metrics.realScore = realScores.mean()
        metrics.fakeScore = fakeScores.mean()
        metrics.realAccuracy = realScores.mapped { $0 > 0.5 ? 1 : 0 }.mean()
        metrics.fakeAccuracy = fakeScores.mapped { $0 < 0.5 ? 1 : 0 }.mean()
    }
}
