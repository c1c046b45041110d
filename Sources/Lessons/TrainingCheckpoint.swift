import Evaluation
import Foundation
import GAN
import Kernels
import NN

/// A train-images stage's whole state at the end of a step, in one safetensors file in its folder
/// (`training.safetensors`), from which `--resume` continues to the numbers of an uninterrupted run.
/// Tensors: both networks with their buffers ("generator.0.weight", "discriminator.3.running_mean"),
/// both optimizers' state ("generator_optimizer.generator.0.weight.exp_avg", as `Checkpoint` names
/// it), the data order of the current pass ("data.order") and the animation's grids
/// ("history.frame.0003"). Metadata: what it belongs to (lesson, stage, seed, quick mode, settings,
/// the networks' text) and, as JSON ("progress"), the loop's position, rows and random streams, the
/// dropout layers' streams, and the history the figures and summary need.
struct TrainingCheckpoint {
    static let kind = "gan-lab training"
    static let fileName = "training.safetensors"
    /// Settings a resumed run may change: they pace the class, not the numbers.
    static let freeSettings: Set<String> = ["pause-every", "checkpoint-every"]

    let path: String
    let file: SafeTensors
    let owner: RunOwner
    let stage: String
    let stageNumber: Int
    let quick: Bool
    let settings: [String: String]
    let progress: ImageTrainProgress

    /// Reads and checks `path`; every problem is one line naming the file and what to do.
    init(reading path: String) throws {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else {
            throw LessonError(["\(path): no such checkpoint (a train-images stage writes \(Self.fileName) in its stage folder)"])
        }
        do {
            file = try SafeTensors(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw LessonError(["\(path): not a checkpoint the lab can read (\(error)); resume from another or run the stage afresh"])
        }
        let metadata = file.metadata
        if metadata["kind"] == GeneratorCheckpoint.kind {
            throw LessonError(["\(path): a generator alone (for `gan-lab score`), not a training checkpoint; resume from the "
                + "\(Self.fileName) in the same folder"])
        }
        guard metadata["kind"] == Self.kind else {
            throw LessonError(["\(path): not a training checkpoint of the lab's (a train-images stage writes \(Self.fileName) in its stage folder)"])
        }
        guard let lesson = metadata["lesson"].flatMap({ Int($0) }), let title = metadata["lesson_title"],
              let seed = metadata["seed"].flatMap({ UInt64($0) }), let stage = metadata["stage"],
              let stageNumber = metadata["stage_number"].flatMap({ Int($0) }),
              let settings = try? decodedJSON([String: String].self, metadata["settings"]),
              let progress = try? decodedJSON(ImageTrainProgress.self, metadata["progress"]) else {
            throw LessonError(["\(path): a training checkpoint whose metadata is damaged; resume from another or run the stage afresh"])
        }
        (owner, self.stage, self.stageNumber) = (RunOwner(lesson: lesson, title: title, seed: seed), stage, stageNumber)
        (quick, self.settings, self.progress) = (metadata["quick"] == "true", settings, progress)
    }

    /// The index of the stage this checkpoint continues in `lesson`, once it is sure the run would
    /// continue the same training: the same lesson, stage, networks, settings, quick mode and seed.
    func stageIndex(in lesson: Lesson, seed: UInt64?, quick: Bool) throws -> Int {
        func refuse(_ problem: String) -> LessonError { LessonError(["\(path): \(problem)"]) }
        guard owner.lesson == lesson.number else {
            throw refuse("a checkpoint of lesson \(owner.lesson), not of lesson \(lesson.number); resume it with `gan-lab lesson \(owner.lesson)`")
        }
        guard owner.title == lesson.title else {
            throw refuse("a checkpoint of lesson \(owner.lesson) titled \"\(owner.title)\", and this lesson file is titled \"\(lesson.title)\"; "
                + "resume with the lesson file it was made with")
        }
        guard let index = lesson.stages.firstIndex(where: { $0.id == stage }), lesson.stages[index].kind == ImageTrainStage.name else {
            throw refuse("a checkpoint of stage \"\(stage)\", which lesson \(lesson.number) has no train-images stage of; run the stage afresh")
        }
        let plan = lesson.stages[index]
        guard plan.number == stageNumber else {
            throw refuse("stage \"\(stage)\" was stage \(stageNumber) when it was saved and is now stage \(plan.number); run the stage afresh")
        }
        guard self.quick == quick else { throw refuse(self.quick ? "made in quick mode; resume with --quick" : "made without --quick; resume without it") }
        if let seed, seed != owner.seed { throw refuse("made with seed \(owner.seed); leave out --seed (the checkpoint keeps its own)") }
        let now = plan.settings.effective
        for network in ["generator", "discriminator"] where architectureText(settings[network]) != architectureText(now[network]) {
            throw refuse("made with another \(network) than stage \"\(stage)\" has now (\(architectureText(settings[network]) ?? "none")); "
                + "resume with the networks it was made with, or run the stage afresh without --resume")
        }
        for key in Set(settings.keys).union(now.keys).sorted()
        where !Self.freeSettings.contains(key) && key != "generator" && key != "discriminator" && settings[key] != now[key] {
            throw refuse("made with \(key): \(settings[key] ?? "unset"), and stage \"\(stage)\" now has \(key): \(now[key] ?? "unset"); "
                + "resume with --set \(stage).\(key)=\(settings[key] ?? "…") or run the stage afresh")
        }
        return index
    }

    /// A damaged part, as one line.
    func damaged(_ what: String) -> LessonError {
        LessonError(["\(path): \(what); resume from another checkpoint or run the stage afresh"])
    }

    /// The networks' and optimizers' tensors under their checkpoint names.
    static func networks(_ trainer: GANTrainer) throws -> Checkpoint {
        guard let generatorOptimizer = trainer.generatorOptimizer as? OptimizerState,
              let discriminatorOptimizer = trainer.discriminatorOptimizer as? OptimizerState else {
            throw LessonError(["this stage's optimizer cannot be saved in a training checkpoint"])
        }
        return Checkpoint(entries: trainer.generator.namedTensors.map { ("generator." + $0.name, $0.parameter) }
                          + trainer.discriminator.namedTensors.map { ("discriminator." + $0.name, $0.parameter) },
                          optimizers: [("generator_optimizer", generatorOptimizer), ("discriminator_optimizer", discriminatorOptimizer)])
    }

    /// Writes the stage's state atomically (a temporary file in the same folder, then a rename), so
    /// that a stop while writing never leaves half a checkpoint.
    static func write(to path: String, owner: RunOwner, plan: StagePlan, quick: Bool, run: ImageGAN,
                      progress: ImageTrainProgress, frames: [Tensor]) throws {
        var tensors = try networks(run.trainer).namedTensors()
        let order = run.batches.batches.state.order
        tensors.append(("data.order", Tensor(shape: [order.count], scalars: order.map(Float.init))))
        for (index, frame) in frames.enumerated() { tensors.append((frameName(index), frame)) }
        let settings = plan.settings.effective
        let metadata = ["kind": kind, "lesson": String(owner.lesson), "lesson_title": owner.title, "seed": String(owner.seed),
                        "stage": plan.id, "stage_number": String(plan.number), "quick": String(quick),
                        "generator": architectureText(settings["generator"]) ?? "", "discriminator": architectureText(settings["discriminator"]) ?? "",
                        "settings": try encodedJSON(settings), "progress": try encodedJSON(progress)]
        do {
            try SafeTensors(tensors: tensors, metadata: metadata).write(to: URL(fileURLWithPath: path))
        } catch let error as SafeTensorsError {
            throw LessonError(["\(error); choose another folder with --out"])
        }
    }

    static func frameName(_ index: Int) -> String { String(format: "history.frame.%04d", index) }

    /// Puts the networks, optimizers, data order and random streams back as they were saved.
    func restore(_ run: ImageGAN) throws {
        let networks = try Self.networks(run.trainer)
        let names = Set(networks.namedTensors().map(\.name))
        do {
            try networks.load(SafeTensors(tensors: file.tensors.filter { names.contains($0.name) }))
        } catch let error as SafeTensorsError {
            throw damaged("\(error)")
        }
        let streams = dropoutLayers(run.trainer.generator) + dropoutLayers(run.trainer.discriminator)
        guard streams.count == progress.dropoutStreams.count else { throw damaged("its dropout streams do not fit the networks") }
        for (layer, state) in zip(streams, progress.dropoutStreams) { layer.randomStream = RandomSource(seed: state) }
        guard let orderTensor = file["data.order"] else { throw damaged("the data order is missing") }
        let order = orderTensor.scalars.map { Int($0) }
        let count = run.images.count
        guard order.allSatisfy({ (0..<count).contains($0) }), order.isEmpty || order.count == count,
              (0...order.count).contains(progress.batchesNext) else { throw damaged("its data order does not fit \(count) images") }
        run.batches.batches.state = (order, progress.batchesNext, progress.batchesEpoch)
        run.loop.restore(progress.loop)
    }

    /// The animation's grids so far.
    func frames() throws -> [Tensor] {
        try progress.frameTitles.indices.map { index in
            guard let frame = file[Self.frameName(index)], frame.rank == 4 else { throw damaged("grid \(index) of the animation is missing") }
            return frame
        }
    }
}

/// The lesson run a checkpoint belongs to.
struct RunOwner: Equatable {
    var lesson: Int
    var title: String
    var seed: UInt64
}

/// The JSON part of a training checkpoint: everything but tensors.
struct ImageTrainProgress: Codable {
    var loop: TrainingLoopState
    /// The next batch's start in the data order, and the passes over the data completed.
    var batchesNext: Int
    var batchesEpoch: Int
    /// Each dropout layer's stream, G's layers then D's, by SplitMix64 state.
    var dropoutStreams: [UInt64]
    var figures: [String]
    var frameTitles: [String]
    var judged: [JudgedMoment]
    var features: ImageFeatureView.History?
    /// Seconds of training before the stop.
    var seconds: Double

    struct JudgedMoment: Codable {
        var step: Int
        var scores: ImageScores
        /// A conditional GAN's label fidelity at that step.
        var fidelity: LabelFidelity?
    }
}

/// The dropout layers of a network, in order.
func dropoutLayers(_ network: Sequential) -> [Dropout] {
    network.layers.flatMap { layer -> [Dropout] in
        if let inner = layer as? Sequential { return dropoutLayers(inner) }
        return (layer as? Dropout).map { [$0] } ?? []
    }
}

/// A network's text as the lab writes it, whatever spacing the lesson file used (nil when it does not parse).
private func architectureText(_ text: String?) -> String? {
    text.flatMap { try? Architecture(parsing: $0) }.map(\.description)
}

/// JSON with every Float and Double exactly as it was (NaN and infinities as strings).
private func encodedJSON(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

private func decodedJSON<Value: Decodable>(_ type: Value.Type, _ text: String?) throws -> Value {
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return try decoder.decode(type, from: Data((text ?? "").utf8))
}
