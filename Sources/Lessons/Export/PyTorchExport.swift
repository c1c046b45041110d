import Autodiff
import Data
import Evaluation
import Foundation
import GAN
import Kernels
import NN

/// `gan-lab export --pytorch`: a checkpoint's networks, weights, optimiser state and noise, or a
/// lesson stage's networks before training, as a folder PyTorch runs as it is.
public struct PyTorchExportRequest {
    /// A training.safetensors (both networks and their optimisers) or a generator.safetensors
    /// (the generator alone) that a `train-images` stage wrote.
    public var checkpoint: String?
    /// A lesson file's path, with `stage`: that stage's networks as its training starts.
    public var lesson: String?
    /// The stage of `lesson` (number or id).
    public var stage: String?
    /// Settings changed in the lesson, as `--set` gives them (key=value or stage.key=value).
    public var overrides: [String] = []
    /// Created if missing; files already there with the same names are replaced.
    public var folder: String
    /// Noise vectors in noise.safetensors (and images in lab-samples.safetensors).
    public var count = 64
    /// For a checkpoint, seeds the noise as `gan-lab sample --seed` does (nil: 1). For a lesson's
    /// stage, the lesson's seed (nil: the lesson's own), which initialises the networks as
    /// `gan-lab lesson N --seed S --stage ID` does and seeds the noise as `gan-lab sample --seed S`.
    public var seed: UInt64?
    /// Threads for the lab's own images of the noise (the files do not depend on it).
    public var threads = 2

    public static let counts = 1...1_000

    public init(checkpoint: String, folder: String) {
        self.checkpoint = checkpoint
        self.folder = folder
    }

    public init(lesson: String, stage: String, folder: String) {
        (self.lesson, self.stage, self.folder) = (lesson, stage, folder)
    }

    /// Neither source given yet: set `checkpoint`, or `lesson` and `stage`.
    public init(folder: String) {
        self.folder = folder
    }
}

/// What `gan-lab export --pytorch` wrote.
public struct PyTorchExportResult {
    /// Every file written, inside the folder, in the order written.
    public let files: [String]
    public let hasDiscriminator: Bool
    /// train.py and optimizer.safetensors were written (image GANs with the stage's settings).
    public let hasOptimizers: Bool
    /// The networks are a stage's before training (LESSON --stage S), not a checkpoint's.
    public let untrained: Bool
    /// What the generator makes: "images", or "samples" (points and other vectors).
    public let outputName: String

    /// What was written and how to run it, for the terminal.
    public func lines(folder: String) -> [String] {
        func path(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }
        return ["gan-lab · exported to PyTorch in \(folder)",
                "  \(path("models.py")): the generator\(hasDiscriminator ? " and discriminator" : "") as nn.Module classes",
                "  \(path("weights.safetensors")): their state_dict (load_state_dict(strict=True))"]
            + (hasOptimizers && !untrained ? ["  \(path("optimizer.safetensors")): both optimisers' state and the stage's settings",
                                              "  \(path("train.py")): continues the training (python train.py --steps N; torchrun --nproc_per_node=2 train.py …)"] : [])
            + (hasOptimizers && untrained ? ["  \(path("optimizer.safetensors")): the stage's settings, no optimiser state yet (train.py starts fresh optimisers at step 0)",
                                             "  \(path("train.py")): trains from scratch with the stage's recipe (python train.py --steps N; torchrun --nproc_per_node=2 train.py …)"] : [])
            + (files.contains(ExportSource.pointsFile) ? ["  \(path(ExportSource.pointsFile)): the stage's points, train.py's data"] : [])
            + (files.contains(ExportSource.shapesFiles.images)
                ? ["  \(path(ExportSource.shapesFiles.images)), \(path(ExportSource.shapesFiles.labels)): the lab's shapes and their classes, train.py's data"] : [])
            + ["  \(path("noise.safetensors")), \(path("lab-samples.safetensors")): the noise, and the lab's \(outputName)\(hasDiscriminator ? " and logits" : "") of it",
               "  run: cd \(folder) && python sample.py   (compares PyTorch's \(outputName) with the lab's; see README.md)"]
    }
}

/// Reads the checkpoint, rebuilds its networks, makes the lab's images of fresh noise, and writes
/// the folder: models.py, labfiles.py, sample.py, README.md, weights.safetensors, optimizer.safetensors
/// (training checkpoints), noise.safetensors and lab-samples.safetensors. Everything is checked and
/// made before the first file is written, and each file is written atomically.
public func exportToPyTorch(_ request: PyTorchExportRequest) throws -> PyTorchExportResult {
    guard PyTorchExportRequest.counts.contains(request.count) else {
        throw LessonError(["--n \(request.count): choose \(PyTorchExportRequest.counts.lowerBound) to \(PyTorchExportRequest.counts.upperBound) noise vectors"])
    }
    let (source, seed) = try ExportSource.read(request)
    setMatrixThreads(request.threads)
    defer { resetMatrixThreads() }

    var random = RandomSource(seed: seed)
    // A conditional generator is asked for every class in turn (0, 1, …), as `gan-lab sample` asks without --class.
    let classes = source.classes, labels = (0..<request.count).map { $0 % max(classes, 1) }
    let z = source.noise.sample(count: request.count, size: source.generator.inputSize - classes, using: &random)
    let noise = classes > 0 ? GANTrainer.conditionedNoise(z, labels: labels, classes: classes) : z
    let images = withoutGradients { source.generatorNetwork(Variable(noise)).value }
    var labOutputs: [(name: String, tensor: Tensor)] = [(source.outputName, images)]
    if let discriminator = source.discriminatorNetwork {
        let input = classes > 0 ? GANTrainer.labelled(images, labels: labels, classes: classes) : images
        labOutputs.append(("logits", withoutGradients { discriminator(Variable(input)).value }))
    }
    let facts = ["kind": "gan-lab pytorch export", "generator": source.generator.description]
        .merging(source.discriminator.map { ["discriminator": $0.description] } ?? [:]) { first, _ in first }
        .merging(source.origin) { first, _ in first }
    var noiseFacts = ["kind": "gan-lab noise", "seed": String(seed), "noise": GeneratorCheckpoint.text(of: source.noise),
                      "data": source.data, "generator": source.generator.description]
    if classes > 0 { noiseFacts["classes"] = String(classes) }

    var files: [(name: String, data: Data)] = [
        ("models.py", Data(PyTorchFiles.models(generator: source.generator, discriminator: source.discriminator, noise: source.noise,
                                               data: source.data, source: source.summary,
                                               generatorScale: source.generatorScale, discriminatorScale: source.discriminatorScale,
                                               classes: classes).utf8)),
        ("labfiles.py", Data(PyTorchFiles.labFiles.utf8)),
        ("sample.py", Data(PyTorchFiles.sample(hasDiscriminator: source.discriminator != nil, output: source.outputName).utf8)),
        ("README.md", Data(PyTorchFiles.readme(source: source, count: request.count, seed: seed).utf8)),
        ("weights.safetensors", source.weights(metadata: facts).encoded()),
    ]
    if source.writesTraining {
        files.append(("train.py", Data(PyTorchFiles.train(defaultData: source.dataFile).utf8)))
        let settings = String(decoding: try JSONSerialization.data(withJSONObject: source.settings, options: [.sortedKeys]), as: UTF8.self)
        files.append(("optimizer.safetensors", SafeTensors(tensors: source.optimizerTensors, metadata: facts.merging(["settings": settings]) { first, _ in first }).encoded()))
        if let path = source.userPointsPath {
            // The lab read these points when it loaded the lesson: the file is there and well formed.
            guard let points = FileManager.default.contents(atPath: path) else {
                throw LessonError(["\(path): the stage's points cannot be read again (check the file); export the stage once it can"])
            }
            files.append((ExportSource.pointsFile, points))
        }
        if source.set == .shapes {
            let shapes = try ImageSource.shapes.load()
            files.append((ExportSource.shapesFiles.images, shapes.idxData(gzip: true)))
            files.append((ExportSource.shapesFiles.labels, shapes.labelsIDXData(gzip: true)))
        }
    }
    files.append(("noise.safetensors", SafeTensors(tensors: [("noise", noise)], metadata: noiseFacts).encoded()))
    files.append(("lab-samples.safetensors", SafeTensors(tensors: labOutputs, metadata: noiseFacts).encoded()))

    try OutputFolder.makeFolder(request.folder)
    for (name, data) in files { try writeAtomically(data, to: (request.folder as NSString).appendingPathComponent(name)) }
    return PyTorchExportResult(files: files.map(\.name), hasDiscriminator: source.discriminator != nil,
                               hasOptimizers: source.writesTraining, untrained: source.untrained,
                               outputName: source.outputName)
}

/// A checkpoint read for export: the networks rebuilt with their weights (inference mode), the
/// noise and data set they were trained with, and, from a training checkpoint, the optimisers'
/// state, the stage's settings and how many steps each network took.
struct ExportSource {
    let path: String
    let generator: Architecture
    let discriminator: Architecture?
    let generatorNetwork: Sequential
    let discriminatorNetwork: Sequential?
    let noise: NoiseDistribution
    /// The data set's name as the lesson writes it (mnist, fashion-mnist; gaussian, disk… for points).
    let data: String
    /// The image set, for an image GAN (nil: points drawn in the lab, which train.py cannot read).
    let set: JudgedSet?
    /// "generator_optimizer.generator.0.weight.exp_avg", …, "generator_optimizer.step", as the lab names them.
    let optimizerTensors: [(name: String, tensor: Tensor)]
    /// The stage's settings (empty for a generator checkpoint).
    let settings: [String: String]
    /// Where it comes from, in words ("lesson 6, stage "class" (3), seed 1").
    let summary: String
    /// Where it comes from, for the files' metadata ("checkpoint": path; or "lesson", "stage", "seed").
    let origin: [String: String]
    /// The networks of a lesson's stage before training (no optimiser state, no steps taken).
    let untrained: Bool
    /// The lab's fixed scalings after the generator's layers and before the discriminator's (lesson 4's networks), if any.
    var generatorScale: Float?
    var discriminatorScale: Float?
    /// A conditional GAN's classes (G reads [z | one-hot], D the label as channels after the image's); 0: unconditional.
    let classes: Int
    /// Optimiser steps each network took (0 when unknown), PyTorch's num_batches_tracked.
    let generatorSteps: Int
    let discriminatorSteps: Int

    static let wanted = "training.safetensors or generator.safetensors"

    init(path: String) throws {
        self.path = path
        let file = try TrainedGenerator.read(path, wanted: Self.wanted)
        switch file.metadata["kind"] ?? "" {
        case GeneratorCheckpoint.kind:
            let trained = try TrainedGenerator(path: path)
            classes = trained.classes
            (generator, discriminator, generatorNetwork, discriminatorNetwork) = (trained.architecture, nil, trained.network, nil)
            (noise, set, data, optimizerTensors, settings) = (trained.noise, trained.set, trained.set.rawValue, [], [:])
            (origin, untrained) = (["checkpoint": path], false)
            (generatorSteps, discriminatorSteps) = (0, 0)
            summary = "\(path) (a generator checkpoint: the generator alone)"
        case TrainingCheckpoint.kind:
            let metadata = file.metadata
            func refuse(_ problem: String) -> LessonError { LessonError(["\(path): \(problem)"]) }
            guard let settingsText = metadata["settings"],
                  let settings = try? JSONDecoder().decode([String: String].self, from: Data(settingsText.utf8)),
                  let generatorText = metadata["generator"], let discriminatorText = metadata["discriminator"] else {
                throw refuse("a training checkpoint whose metadata is damaged (its settings or networks are missing); export another")
            }
            guard let data = settings["data"], let set = JudgedSet(rawValue: data) else {
                throw refuse("a training checkpoint of \"\(settings["data"] ?? "no")\" images, a data set the lab does not know")
            }
            classes = settings["conditioning"] == "labels" ? set.classNames.count : 0
            let generator: Architecture, discriminator: Architecture
            do {
                (generator, discriminator) = (try Architecture(parsing: generatorText), try Architecture(parsing: discriminatorText))
            } catch {
                throw refuse("the networks it describes cannot be rebuilt (\(error))")
            }
            guard generator.inputShape.count == 1,
                  discriminator.inputShape == Self.discriminatorInput(generatorOutput: generator.outputShape, classes: classes) else {
                throw refuse("its generator makes \(Architecture.shapeDescription(generator.outputShape)) and its discriminator reads "
                    + "\(Architecture.shapeDescription(discriminator.inputShape)): networks that do not fit together")
            }
            var random = RandomSource(seed: TrainedGenerator.rebuildSeed)
            let (generatorNetwork, discriminatorNetwork) = (generator.build(using: &random), discriminator.build(using: &random))
            let networks = Checkpoint(entries: generatorNetwork.namedTensors.map { ("generator." + $0.name, $0.parameter) }
                                      + discriminatorNetwork.namedTensors.map { ("discriminator." + $0.name, $0.parameter) })
            let isNetwork = { (name: String) in name.hasPrefix("generator.") || name.hasPrefix("discriminator.") }
            do { try networks.load(SafeTensors(tensors: file.tensors.filter { isNetwork($0.name) })) } catch {
                throw refuse("the networks it describes cannot be rebuilt (\(error))")
            }
            generatorNetwork.isTraining = false
            discriminatorNetwork.isTraining = false
            (self.generator, self.discriminator, self.generatorNetwork, self.discriminatorNetwork) = (generator, discriminator, generatorNetwork, discriminatorNetwork)
            (self.set, self.data, self.settings, origin, untrained) = (set, set.rawValue, settings, ["checkpoint": path], false)
            noise = settings["noise"] == "normal" ? .normal : .uniform(low: -1, high: 1)
            optimizerTensors = file.tensors.filter { $0.name.hasPrefix("generator_optimizer.") || $0.name.hasPrefix("discriminator_optimizer.") }
            generatorSteps = file["generator_optimizer.step"].map { Int($0.scalar) } ?? 0
            discriminatorSteps = file["discriminator_optimizer.step"].map { Int($0.scalar) } ?? 0
            summary = "\(path) (lesson \(metadata["lesson"] ?? "?"), stage \"\(metadata["stage"] ?? "?")\", seed \(metadata["seed"] ?? "?")"
                + (metadata["quick"] == "true" ? ", quick mode" : "") + ")"
        default:
            throw LessonError(["\(path): a safetensors file but not a checkpoint of the lab's (a judge or another program's weights); "
                + "give the \(Self.wanted) a `train-images` stage writes"])
        }
    }

    /// Reads the source the request names, after checking it names exactly one; returns it with
    /// the noise's seed.
    static func read(_ request: PyTorchExportRequest) throws -> (source: ExportSource, seed: UInt64) {
        switch (request.checkpoint, request.lesson, request.stage) {
        case (let checkpoint?, nil, nil):
            guard request.overrides.isEmpty else {
                throw LessonError(["--set changes a lesson's settings, and a checkpoint keeps its own; leave out --set or export LESSON --stage S"])
            }
            return (try ExportSource(path: checkpoint), request.seed ?? 1)
        case (nil, let lesson?, let stage?):
            let lesson = try Lesson(path: lesson, overrides: request.overrides)
            let seed = request.seed ?? lesson.seed
            return (try ExportSource(lesson: lesson, stage: stage, seed: seed), seed)
        case (.some, _, _):
            throw LessonError(["give either --checkpoint F (a trained stage's file) or LESSON --stage S (a lesson's stage before training), not both"])
        case (nil, let lesson?, nil):
            throw LessonError(["LESSON \(lesson) without --stage: say which of its stages to export with --stage S (a number or id)"])
        case (nil, nil, let stage?):
            throw LessonError(["--stage \(stage): say which lesson it is a stage of (gan-lab export --pytorch LESSON --stage \(stage) --out DIR)"])
        case (nil, nil, nil):
            throw LessonError(["say what to export: --checkpoint F (a stage's training.safetensors or generator.safetensors) "
                + "or LESSON --stage S (a lesson's stage before training)"])
        }
    }

    /// What the discriminator reads: the generator's images, with a conditional GAN's label channels after them.
    static func discriminatorInput(generatorOutput shape: [Int], classes: Int) -> [Int] {
        classes == 0 || shape.count != 3 ? shape : [shape[0] + classes] + shape.dropFirst()
    }

    /// Whether train.py and optimizer.safetensors are written: a GAN with its stage's settings (an
    /// image GAN, or a toy GAN whose points or mixture train.py draws as the lab does).
    var writesTraining: Bool { !settings.isEmpty && discriminator != nil }

    /// A toy GAN's points: drawn by train.py from the stage's distribution, or read from `points.csv`.
    var isOnPoints: Bool { self.set == nil }

    /// The user's points file a toy stage trains on (`data: points`), which the export copies
    /// beside train.py as `pointsFile`; nil for every other data.
    var userPointsPath: String? { isOnPoints && settings["data"] == "points" ? settings["data-file"] : nil }

    /// A user's points (`data: points`) are copied beside train.py under this name.
    static let pointsFile = "points.csv"

    /// The lab's shapes are drawn, not read: train.py gets them as IDX files written beside it.
    static let shapesFiles = (images: "shapes-images-idx4-ubyte.gz", labels: "shapes-labels-idx1-ubyte.gz")

    /// What the generator makes, as lab-samples.safetensors and sample.py name it.
    var outputName: String { generator.outputShape.count == 3 ? "images" : "samples" }

    /// The file the lab reads the stage's images from (train.py's default), as an absolute path; for
    /// the shapes and a user's points, the file written beside train.py (a name in the folder); for
    /// points train.py draws itself, none ("").
    var dataFile: String {
        if isOnPoints { return userPointsPath == nil ? "" : Self.pointsFile }
        if set == .shapes { return Self.shapesFiles.images }
        if set == .fashionMNIST { return (ImageSource.fashionMNISTFolder as NSString).appendingPathComponent("train-images-idx3-ubyte.gz") }
        let folder = URL(fileURLWithPath: ImageDataView.dataFolder).standardizedFileURL.path
        return ImageSource.fullMNIST(in: folder)?.images ?? (folder as NSString).appendingPathComponent("mnist_5k.csv.gz")
    }

    /// Both networks' tensors under their state_dict names ("generator.0.weight"), with each
    /// BatchNorm's num_batches_tracked (its network's optimiser steps; PyTorch reads it only when
    /// momentum is None, which models.py never writes).
    func weights(metadata: [String: String]) -> SafeTensors {
        var tensors: [(name: String, tensor: Tensor)] = []
        var counts: [(name: String, shape: [Int], values: [Int64])] = []
        let networks = [("generator", generatorNetwork, generatorSteps)]
            + (discriminatorNetwork.map { [("discriminator", $0, discriminatorSteps)] } ?? [])
        for (prefix, network, steps) in networks {
            tensors += network.namedTensors.map { ("\(prefix).\($0.name)", $0.parameter.value) }
            for (index, layer) in network.layers.enumerated() where layer is BatchNormalization {
                counts.append(("\(prefix).\(index).num_batches_tracked", [], [Int64(steps)]))
            }
        }
        var file = SafeTensors(tensors: tensors, metadata: metadata)
        file.integerTensors = counts
        return file
    }
}
