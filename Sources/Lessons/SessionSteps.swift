import Data
import Foundation
import GAN
import Kernels

/// Which network an update changes.
enum UpdatedNetwork: Hashable { case discriminator, generator }

extension TrainingSession {
    /// A real batch as the networks see it (standardised when the stage says so).
    func realBatch() -> Tensor { views.modelSpace(distribution.sample(count: batchSize, using: &random)) }

    /// The tutorials' steps on explicit batches: `joint` is the TF2 tutorial's `train_step`;
    /// `phases` is the TF1 tutorial's iteration, `discriminator-steps` D updates and then
    /// `generator-steps` G updates on one real batch and one noise batch.
    func tutorialStep(_ metrics: inout StepMetrics) {
        let real = realBatch()
        let noise = trainer.sampleNoise(count: batchSize, using: &random)
        views.probing = context.quick || step % context.settings.integer("probe-every") == 0
        defer { views.probing = true }
        if update == "joint" {
            trainer.jointStep(real: real, noise: noise, into: &metrics)
            return
        }
        for _ in 0..<context.settings.integer("discriminator-steps") {
            views.observe(.discriminator, real: real, noise: noise) { trainer.discriminatorUpdate(real: real, noise: noise, into: &metrics) }
        }
        for _ in 0..<context.settings.integer("generator-steps") {
            views.observe(.generator, real: real, noise: noise) { trainer.generatorUpdate(noise: noise, into: &metrics) }
        }
    }

    /// One discriminator update alone, on a fresh batch (step mode's d); it measures no generator loss.
    @discardableResult
    func discriminatorOnlyStep(epoch: Int) throws -> StepMetrics {
        var metrics = StepMetrics()
        metrics.generatorLoss = .nan
        countStep()
        if update == "alternating" {
            let real = distribution.sample(count: batchSize, using: &random)
            views.observe(.discriminator, real: views.modelSpace(views.featureReal), noise: views.featureNoise) { trainer.discriminatorStep(real: real, into: &metrics, using: &random) }
        } else {
            let real = realBatch(), noise = trainer.sampleNoise(count: batchSize, using: &random)
            views.observe(.discriminator, real: real, noise: noise) { trainer.discriminatorUpdate(real: real, noise: noise, into: &metrics) }
        }
        try record(metrics, epoch: epoch, networks: .discriminator)
        return metrics
    }

    /// One generator update alone, on fresh noise (step mode's g); it measures none of the discriminator's numbers.
    @discardableResult
    func generatorOnlyStep(epoch: Int) throws -> StepMetrics {
        var metrics = StepMetrics()
        (metrics.discriminatorLoss, metrics.realAccuracy, metrics.fakeAccuracy) = (.nan, .nan, .nan)
        (metrics.realScore, metrics.fakeScore) = (.nan, .nan)
        countStep()
        if update == "alternating" {
            views.observe(.generator, real: views.modelSpace(views.featureReal), noise: views.featureNoise) { trainer.generatorStep(batchSize: batchSize, into: &metrics, using: &random) }
        } else {
            let real = realBatch(), noise = trainer.sampleNoise(count: batchSize, using: &random)
            views.observe(.generator, real: real, noise: noise) { trainer.generatorUpdate(noise: noise, into: &metrics) }
        }
        try record(metrics, epoch: epoch, networks: .generator)
        return metrics
    }
}
