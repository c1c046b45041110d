import Autodiff
import Data
import Evaluation
import Foundation
import GAN
import Kernels
import NN

/// A generator as `train-images` saves it: its weights (PyTorch's `state_dict` names) and, in the
/// file's metadata, what it takes to make images again: its network text, its noise and its data set.
struct GeneratorCheckpoint {
    let set: JudgedSet
    let architecture: String
    let noise: NoiseDistribution
    /// A conditional generator's classes (its input ends with a one-hot label of this many); 0: unconditional.
    var classes = 0

    static let kind = "gan-lab generator"

    func save(_ generator: Sequential, to path: String) throws {
        var metadata = ["kind": Self.kind, "data": set.rawValue, "generator": architecture, "noise": Self.text(of: noise)]
        if classes > 0 { metadata["classes"] = String(classes) }
        try Checkpoint(model: generator).save(to: URL(fileURLWithPath: path), metadata: metadata)
    }

    /// The noise as the metadata writes it: "normal" or "uniform LOW HIGH".
    static func text(of noise: NoiseDistribution) -> String {
        switch noise {
        case .normal: return "normal"
        case .uniform(let low, let high): return "uniform \(low) \(high)"
        }
    }

    /// The noise a metadata text names (none named: normal), or nil.
    static func noise(parsing text: String?) -> NoiseDistribution? {
        let parts = (text ?? "normal").split(separator: " ")
        if parts == ["normal"] { return .normal }
        guard parts.count == 3, parts[0] == "uniform", let low = Float(parts[1]), let high = Float(parts[2]), low < high else { return nil }
        return .uniform(low: low, high: high)
    }

    /// `count` images from the checkpoint's generator for `gan-lab score`: its noise is always the
    /// same, drawn where rebuilding the network left the stream seeded `TrainedGenerator.rebuildSeed`.
    static func generate(from path: String, set: JudgedSet, count: Int) throws -> ImageSet {
        let generator = try TrainedGenerator(path: path)
        guard generator.set == set else {
            throw LessonError(["\(path): a generator of \(generator.set.rawValue) images; score it with --data \(generator.set.rawValue)"])
        }
        var random = generator.streamAfterRebuild
        return ImageSet(images: generator.images(from: generator.noise(count: count, using: &random)), labels: nil, source: path)
    }
}

/// A generator checkpoint read once: its data set, network and noise, and the network rebuilt with
/// the saved weights, in inference mode (batch normalisation uses its running statistics), ready
/// to make images from any noise. `gan-lab score --checkpoint` and `gan-lab sample` both use it.
struct TrainedGenerator {
    let path: String
    let set: JudgedSet
    let architecture: Architecture
    let noise: NoiseDistribution
    /// A conditional generator's classes; 0: unconditional.
    let classes: Int
    let network: Sequential
    /// The stream seeded `rebuildSeed` after the draws of rebuilding the network (weights the
    /// checkpoint then replaces): where `gan-lab score` draws its fixed noise.
    let streamAfterRebuild: RandomSource

    static let rebuildSeed: UInt64 = 0x7363_6f72_65
    /// Images made at a time: each image depends on its own noise only (inference mode), and
    /// memory stays small for 100,000 images.
    static let batchSize = 500

    /// Reads and checks the checkpoint; every failure is one line naming the file and what to do.
    init(path: String) throws {
        self.path = path
        let file = try Self.read(path)
        guard file.metadata["kind"] == GeneratorCheckpoint.kind, let text = file.metadata["generator"], let data = file.metadata["data"] else {
            throw LessonError(["\(path): a safetensors file but not a generator checkpoint of the lab's (a discriminator, a judge or "
                + "another program's weights cannot make images); give the generator.safetensors a `train-images` stage writes"])
        }
        guard let set = JudgedSet(rawValue: data) else {
            throw LessonError(["\(path): a generator of \"\(data)\" images, a data set the lab does not know (it knows "
                + "\(JudgedSet.allCases.map(\.rawValue).joined(separator: " and ")))"])
        }
        guard let noise = GeneratorCheckpoint.noise(parsing: file.metadata["noise"]) else {
            throw LessonError(["\(path): its noise \"\(file.metadata["noise"] ?? "")\" is not one the lab draws (normal, or uniform LOW HIGH)"])
        }
        let classes = Int(file.metadata["classes"] ?? "0") ?? -1
        guard classes == 0 || classes == set.classNames.count else {
            throw LessonError(["\(path): a generator conditioned on \"\(file.metadata["classes"] ?? "")\" classes, but \(set.rawValue) has "
                + "\(set.classNames.count); give a generator.safetensors a `train-images` stage wrote"])
        }
        let rebuildFailure = "\(path): the generator it describes cannot be rebuilt"
        let architecture: Architecture
        do { architecture = try Architecture(parsing: text) } catch { throw LessonError(["\(rebuildFailure) (\(error))"]) }
        // The generator makes its set's images, the judge's input.
        guard architecture.inputShape.count == 1, architecture.inputSize > classes, architecture.outputShape == set.imageShape else {
            throw LessonError(["\(rebuildFailure) as an image generator: it makes \(Architecture.shapeDescription(architecture.outputShape)) "
                + "from \(Architecture.shapeDescription(architecture.inputShape)), not \(set.imageDescription) images from noise vectors"])
        }
        var random = RandomSource(seed: Self.rebuildSeed)
        let network = architecture.build(using: &random)
        do { try Checkpoint(model: network).load(file) } catch { throw LessonError(["\(rebuildFailure) (\(error))"]) }
        network.isTraining = false
        self.set = set
        self.architecture = architecture
        self.noise = noise
        self.classes = classes
        self.network = network
        streamAfterRebuild = random
    }

    /// The file as safetensors, or a line saying why it is not a checkpoint the lab can read;
    /// `wanted` names the files that would do ("generator.safetensors").
    static func read(_ path: String, wanted: String = "generator.safetensors") throws -> SafeTensors {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw LessonError(["\(path): no such checkpoint (a `train-images` stage writes \(wanted) in its stage folder)"])
        }
        guard !isFolder.boolValue else {
            throw LessonError(["\(path) is a folder; give the \(wanted) file a `train-images` stage wrote in it"])
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LessonError(["\(path): cannot be read (check its permissions)"])
        }
        let unreadable = "\(path): not a checkpoint the lab can read: "
        guard !data.isEmpty else { throw LessonError([unreadable + "the file is empty; save or copy it again"]) }
        // A safetensors file starts with its header's length (8 bytes, little-endian), then the JSON header.
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        let startsLikeSafeTensors = data.count < 9 || (data[data.startIndex + 8] == UInt8(ascii: "{") && headerLength <= UInt64(SafeTensors.maximumHeaderLength))
        guard startsLikeSafeTensors else {
            throw LessonError([unreadable + "not a safetensors file; give the \(wanted) a `train-images` stage writes"])
        }
        if data.count < 8 || headerLength > UInt64(data.count - 8) {
            throw LessonError([unreadable + "it is truncated (\(data.count) bytes, shorter than its own header); save or copy it again"])
        }
        do {
            return try SafeTensors(data: data)
        } catch {
            throw LessonError([unreadable + "it is truncated or damaged (\(error)); save or copy it again"])
        }
    }

    /// Numbers of noise in the generator's input (a conditional generator's one-hot label follows them).
    var latentSize: Int { architecture.inputSize - classes }

    /// `count` noise vectors [count, latentSize] from the checkpoint's distribution, drawn by the
    /// lab's generator seeded `seed`; a conditional generator's ask for `label`, or for every class
    /// in turn (0, 1, …, 9, 0, …) when it is nil.
    func noise(count: Int, seed: UInt64, label: Int? = nil) -> Tensor {
        var random = RandomSource(seed: seed)
        return noise(count: count, label: label, using: &random)
    }

    func noise(count: Int, label: Int? = nil, using random: inout RandomSource) -> Tensor {
        let z = noise.sample(count: count, size: latentSize, using: &random)
        guard classes > 0 else { return z }
        return GANTrainer.conditionedNoise(z, labels: (0..<count).map { label ?? $0 % classes }, classes: classes)
    }

    /// G(z) for each noise vector, [n, 1, 28, 28] in [-1, 1], a batch at a time; `progress` gets
    /// the number of images made after each batch.
    func images(from noise: Tensor, progress: (Int) -> Void = { _ in }) -> Tensor {
        let count = noise.shape[0]
        var parts: [Tensor] = []
        for start in stride(from: 0, to: count, by: Self.batchSize) {
            let end = min(start + Self.batchSize, count)
            let batch = start == 0 && end == count ? noise : noise.sliced(alongAxis: 0, start..<end)
            parts.append(withoutGradients { network(Variable(batch)).value })
            progress(end)
        }
        return parts.count == 1 ? parts[0] : Tensor.concatenated(parts, alongAxis: 0)
    }
}
