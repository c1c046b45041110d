import Evaluation
import Foundation
import GAN
import Kernels
import NN

extension ExportSource {
    /// The stage kinds whose two networks the export writes: the toy GANs on points (lesson 4's
    /// collapse stages too, without packing or minibatch discrimination) and the image GANs.
    static let stageKinds = [TrainStage.name, ImageTrainStage.name, CollapseStage.name]
    /// Stage kinds that train no GAN of their own.
    static let stageKindsWithoutNetworks = ["data", "models", "mixtures", "judge"]

    /// Whether the export writes this stage's networks: a stage of those kinds, and in lesson 4
    /// one whose discriminator reads one sample at a time.
    static func canExport(_ plan: StagePlan) -> Bool {
        stageKinds.contains(plan.kind)
            && (plan.kind != CollapseStage.name || (plan.settings.integer("pack") == 1 && plan.settings.integer("minibatch-kernels") == 0))
    }

    /// A lesson stage's networks as its training starts, in inference mode: built by the stage's
    /// own code (`StageNetworks`) from the random source it starts from in a run of `seed`, so
    /// that they are the networks `gan-lab lesson N --seed S --stage ID` trains from, and the
    /// stage's settings for train.py (no optimiser state: it starts fresh).
    init(lesson: Lesson, stage: String, seed: UInt64) throws {
        let exportable = lesson.stages.filter(Self.canExport).map { "\($0.number) (\($0.id))" }
        let canBeExported = exportable.isEmpty
            ? "lesson \(lesson.number) has no stage that can be exported (train and train-images stages can)"
            : "stages that can be exported: \(exportable.joined(separator: ", "))"
        guard let plan = lesson.stages.first(where: { $0.id == stage || String($0.number) == stage }) else {
            let known = lesson.stages.map { "\($0.number) (\($0.id))" }.joined(separator: ", ")
            throw LessonError(["--stage \(stage): no such stage in lesson \(lesson.number) (stages: \(known)); \(canBeExported)"])
        }
        guard Self.stageKinds.contains(plan.kind) else {
            let why = Self.stageKindsWithoutNetworks.contains(plan.kind) ? "which has no networks to export"
                : "which trains several GANs side by side, not one stage's two networks"
            throw LessonError(["stage \(plan.number) (\(plan.id)) of lesson \(lesson.number) is a \(plan.kind) stage, \(why); \(canBeExported)"])
        }
        classes = conditioningClasses(plan.settings)
        var random = plan.startingRandom(seed: seed)
        let networks: (generatorArchitecture: Architecture, discriminatorArchitecture: Architecture, generator: Sequential, discriminator: Sequential)
        if plan.kind == CollapseStage.name {
            let method = try CollapseMethod(plan.settings)
            let packs = method.configuration.packSize > 1, compares = method.minibatchKernels > 0
            guard !packs && !compares else {
                throw LessonError(["stage \(plan.number) (\(plan.id)) of lesson \(lesson.number): its discriminator "
                    + (packs ? "reads packs of \(method.configuration.packSize) samples" : "compares the samples of a batch (minibatch discrimination)")
                    + ", which models.py does not write yet; \(canBeExported)"])
            }
            // The stage's run, made as the stage makes it; its networks have the lab's fixed scalings around them.
            let mixture = plan.settings.mixture
            let run = CollapseRun(method: method, mixture: mixture, seed: CollapseStage.runSeed(&random), totalSteps: 1)
            networks = (method.generator, method.discriminator, run.trainer.generator, run.trainer.discriminator)
            (generatorScale, discriminatorScale) = (Float(mixture.reach), 1 / Float(mixture.reach))
            data = "\(plan.settings.text("mixture")) mixture"
        } else {
            let built = try StageNetworks(plan.settings, using: &random)
            networks = (built.generatorArchitecture, built.discriminatorArchitecture, built.generator, built.discriminator)
            data = plan.settings.text("data")
        }
        guard networks.generatorArchitecture.inputShape.count == 1,
              networks.discriminatorArchitecture.inputShape == Self.discriminatorInput(generatorOutput: networks.generatorArchitecture.outputShape,
                                                                                       classes: classes) else {
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
        set = plan.kind == ImageTrainStage.name ? JudgedSet(rawValue: data) : nil
        settings = plan.settings.effective
        (optimizerTensors, generatorSteps, discriminatorSteps) = ([], 0, 0)
        summary = "lesson \(lesson.number) (\(lesson.path)), stage \"\(plan.id)\" (\(plan.number)), seed \(seed), before training"
        origin = ["lesson": String(lesson.number), "lesson_file": lesson.path, "stage": plan.id, "stage_number": String(plan.number),
                  "seed": String(seed), "untrained": "true"]
        untrained = true
    }
}
