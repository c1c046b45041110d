import Evaluation
import Foundation
import GAN
import Kernels

extension ExportSource {
    /// The stage kinds whose two networks the export writes: the toy GANs on points and the image GANs.
    static let stageKinds = [TrainStage.name, ImageTrainStage.name]
    /// Stage kinds that train no GAN of their own.
    static let stageKindsWithoutNetworks = ["data", "models", "mixtures", "judge"]

    /// A lesson stage's networks as its training starts, in inference mode: built by the stage's
    /// own code (`StageNetworks`) from the random source it starts from in a run of `seed`, so
    /// that they are the networks `gan-lab lesson N --seed S --stage ID` trains from. An image
    /// GAN gets the stage's settings for train.py (no optimiser state: it starts fresh); a GAN
    /// on points gets none, since train.py reads image files.
    init(lesson: Lesson, stage: String, seed: UInt64) throws {
        let exportable = lesson.stages.filter { Self.stageKinds.contains($0.kind) }.map { "\($0.number) (\($0.id))" }
        let canBeExported = exportable.isEmpty
            ? "lesson \(lesson.number) has no stage that can be exported (train and train-images stages can)"
            : "stages that can be exported: \(exportable.joined(separator: ", "))"
        guard let plan = lesson.stages.first(where: { $0.id == stage || String($0.number) == stage }) else {
            let known = lesson.stages.map { "\($0.number) (\($0.id))" }.joined(separator: ", ")
            throw LessonError(["--stage \(stage): no such stage in lesson \(lesson.number) (stages: \(known)); \(canBeExported)"])
        }
        guard Self.stageKinds.contains(plan.kind) else {
            let why = Self.stageKindsWithoutNetworks.contains(plan.kind) ? "which has no networks to export"
                : plan.kind == CollapseStage.name ? "whose networks have layers models.py does not write yet (fixed scalings, packing, minibatch discrimination)"
                : "which trains several GANs side by side, not one stage's two networks"
            throw LessonError(["stage \(plan.number) (\(plan.id)) of lesson \(lesson.number) is a \(plan.kind) stage, \(why); \(canBeExported)"])
        }
        var random = plan.startingRandom(seed: seed)
        let networks = try StageNetworks(plan.settings, using: &random)
        guard networks.generatorArchitecture.inputShape.count == 1,
              networks.discriminatorArchitecture.inputShape == networks.generatorArchitecture.outputShape else {
            throw LessonError(["stage \(plan.number) (\(plan.id)) of lesson \(lesson.number): its generator makes "
                + "\(Architecture.shapeDescription(networks.generatorArchitecture.outputShape)) and its discriminator reads "
                + "\(Architecture.shapeDescription(networks.discriminatorArchitecture.inputShape)): networks that do not fit together"])
        }
        networks.generator.isTraining = false
        networks.discriminator.isTraining = false
        path = lesson.path
        (generator, discriminator) = (networks.generatorArchitecture, networks.discriminatorArchitecture)
        (generatorNetwork, discriminatorNetwork) = (networks.generator, networks.discriminator)
        noise = GANConfiguration(plan.settings).noise
        data = plan.settings.text("data")
        set = plan.kind == ImageTrainStage.name ? JudgedSet(rawValue: data) : nil
        settings = set == nil ? [:] : plan.settings.effective
        (optimizerTensors, generatorSteps, discriminatorSteps) = ([], 0, 0)
        summary = "lesson \(lesson.number) (\(lesson.path)), stage \"\(plan.id)\" (\(plan.number)), seed \(seed), before training"
        origin = ["lesson": String(lesson.number), "lesson_file": lesson.path, "stage": plan.id, "stage_number": String(plan.number),
                  "seed": String(seed), "untrained": "true"]
        untrained = true
    }
}
