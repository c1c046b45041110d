import Autodiff
import Data
import Foundation
import GAN
import Kernels
import NN
import Synchronization

/// The image sets the lab has a judge for.
public enum JudgedSet: String, CaseIterable {
    case mnist, fashionMNIST = "fashion-mnist", shapes

    /// The class names, in label order.
    public var classNames: [String] {
        switch self {
        case .mnist: return (0...9).map(String.init)
        case .fashionMNIST: return ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
        case .shapes: return ShapesSet.classNames
        }
    }

    /// Its images' shape, channels × height × width: what the judge reads and a generator must make.
    public var imageShape: [Int] {
        self == .shapes ? [3, ShapesSet.side, ShapesSet.side] : [1, 28, 28]
    }

    /// Where its training images come from.
    public var source: ImageSource {
        switch self {
        case .mnist: return .mnist
        case .fashionMNIST: return .fashionMNIST
        case .shapes: return .shapes
        }
    }

    /// The images in words, for messages: "grey 28×28" or "colour 64×64".
    public var imageDescription: String {
        "\(imageShape[0] == 1 ? "grey" : "colour") \(imageShape[1])×\(imageShape[2])"
    }
}

/// How a judge is built and trained: a documented preset, written in the lesson files' network
/// grammar. The features a score compares are the 128 ReLU outputs before the last layer (the
/// penultimate layer, as pytorch-fid takes Inception's pool features); the logits are the last
/// layer's 10 outputs (TF-GAN's choice for its MNIST Fréchet distance).
public struct JudgeRecipe: Equatable {
    public var architecture = "1x28x28 -> conv 32 5x5 stride 2 same -> relu -> conv 64 5x5 stride 2 same -> relu -> flatten -> 128 relu -> 10"
    public var epochs: Int
    public var batchSize = 64
    public var learningRate: Float = 1e-3
    public var seed: UInt64 = 1
    /// Training images are moved by up to this many pixels each way, a fresh draw every time.
    public var shift = 2
    /// Images per class held out of training to measure accuracy and the real-data ceiling (MNIST's
    /// 5,000 digits have no test set of their own); 0 where the set has a test set (Fashion-MNIST).
    public var heldOutPerClass: Int

    public static func standard(for set: JudgedSet) -> JudgeRecipe {
        switch set {
        case .mnist: return JudgeRecipe(epochs: 15, heldOutPerClass: 50)
        case .fashionMNIST: return JudgeRecipe(epochs: 5, shift: 0, heldOutPerClass: 0)  // clothes come centred: no shifts
        // The shapes are drawn at random places already, on coloured backgrounds a shift would edge in black.
        case .shapes: return JudgeRecipe(architecture: shapesArchitecture, epochs: 5, shift: 0, heldOutPerClass: 50)
        }
    }

    /// The shapes judge: three strided convolutions take 64×64 colour images to 8×8×64, then the
    /// same 128 ReLU features and 10 logits as the digits' judge. Narrow first layers keep it
    /// quick (about 12 million multiply-adds an image, a quarter of 32-64-64 channels of 5×5, which
    /// measured 0.968 after 4 epochs in 64 s): 99 % of the held-out shapes after 5 epochs.
    public static let shapesArchitecture = "3x64x64 -> conv 16 5x5 stride 2 same -> relu -> conv 32 5x5 stride 2 same -> relu "
        + "-> conv 64 3x3 stride 2 same -> relu -> flatten -> 128 relu -> 10"

    /// What the cached weights depend on: a different recipe, different data or different
    /// arithmetic (`Judge.arithmeticFingerprint`) means a new judge.
    func cacheKey(set: JudgedSet, trainingImages: Int, arithmetic: String) -> String {
        let text = "judge v1 · \(set.rawValue) · \(trainingImages) training images · \(architecture) · \(epochs) epochs · batch \(batchSize) · "
            + "adam \(learningRate) · seed \(seed) · shifts ±\(shift) · held out \(heldOutPerClass) a class · portable products"
            + (set == .shapes ? " · shapes drawn by v\(ShapesSet.drawingVersion)" : "") + " · arithmetic \(arithmetic)"
        var hash = FNV1a()
        for byte in text.utf8 { hash.mix(UInt64(byte)) }
        return String(hash.value, radix: 16)
    }
}

/// FNV-1a, fed bytes (a cache key's text) or whole words (a tensor's bit patterns).
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func mix(_ word: UInt64) { value = (value ^ word) &* 0x100_0000_01b3 }

    mutating func mix(_ tensor: Tensor) {
        tensor.withUnsafeBufferPointer { for element in $0 { mix(UInt64(element.bitPattern)) } }
    }
}

/// The real images a judge learns from and the ones it never sees.
public struct JudgeData {
    public let training: ImageSet
    /// Images the judge never trained on: accuracy, and the real side of every ceiling.
    public let heldOut: ImageSet

    /// MNIST and the shapes: `heldOutPerClass` images of each class, chosen by the recipe's seed,
    /// are held out of the set; Fashion-MNIST: its own 10,000-image test set.
    public static func load(_ set: JudgedSet, recipe: JudgeRecipe, dataFolder: String) throws -> JudgeData {
        switch set {
        case .mnist, .shapes:
            let all = try set.source.load(dataFolder: dataFolder)
            guard let labels = all.labels else { throw DataError("\(all.source): the images have no labels") }
            var random = RandomSource(seed: recipe.seed &+ 0x6865_6c64)
            var heldOut: [Int] = []
            for digit in 0..<10 {
                var members = labels.indices.filter { labels[$0] == digit }
                random.shuffle(&members)
                heldOut += members.prefix(recipe.heldOutPerClass)
            }
            // Both sets list their images class by class: shuffle the held-out ones, so that any first
            // n of them (a ceiling for n images, a split of a score) hold every class.
            random.shuffle(&heldOut)
            let held = Set(heldOut)
            return JudgeData(training: all.subset(labels.indices.filter { !held.contains($0) }), heldOut: all.subset(heldOut))
        case .fashionMNIST:
            let folder = ImageSource.fashionMNISTFolder as NSString
            let training = try ImageSource.fashionMNIST.load(dataFolder: dataFolder)
            let test = try ImageSource.idx(images: folder.appendingPathComponent("t10k-images-idx3-ubyte.gz"),
                                           labels: folder.appendingPathComponent("t10k-labels-idx1-ubyte.gz")).load()
            return JudgeData(training: training, heldOut: test)
        }
    }
}

/// A cached judge whose key is not the recipe's and data's.
struct JudgeCacheMismatch: Error, CustomStringConvertible {
    var description: String { "it was made for another recipe or other data" }
}

/// What a judge says of a batch of images.
public struct Judgement {
    /// [n, 10]: p(y | x), the softmax of the logits.
    public let probabilities: Tensor
    /// [n, 10]: the last layer's outputs.
    public let logits: Tensor
    /// [n, 128]: the penultimate layer's outputs, the space the Fréchet distance and the
    /// k-nearest-neighbour metrics measure in.
    public let features: Tensor

    /// Each image's most probable class.
    public var predictions: [Int] { rowMaxima(logits) }
}

/// The column of each row's largest value, for [n, c].
func rowMaxima(_ matrix: Tensor) -> [Int] {
    let c = matrix.shape[1]
    return matrix.withUnsafeBufferPointer { values in
        (0..<matrix.shape[0]).map { row in (0..<c).max { values[row * c + $0] < values[row * c + $1] }! }
    }
}

/// Images [n, c, h, w] each moved by a random whole number of pixels in −limit…limit along each
/// axis, the uncovered edge filled with the background (−1, black).
func shiftedRandomly(_ images: Tensor, upTo limit: Int, using random: inout RandomSource) -> Tensor {
    guard limit > 0 else { return images }
    let (n, c, h, w) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
    var result = Tensor(shape: images.shape, repeating: -1)
    let offsets = (0..<n).map { _ in (random.index(below: 2 * limit + 1) - limit, random.index(below: 2 * limit + 1) - limit) }
    images.withUnsafeBufferPointer { source in
        result.withUnsafeMutableBufferPointer { target in
            for (image, (dy, dx)) in offsets.enumerated() {
                for channel in 0..<c {
                    let plane = (image * c + channel) * h * w
                    for y in max(0, dy)..<min(h, h + dy) {
                        for x in max(0, dx)..<min(w, w + dx) { target[plane + y * w + x] = source[plane + (y - dy) * w + (x - dx)] }
                    }
                }
            }
        }
    }
    return result
}

/// A small CNN classifier trained by the lab on its own engine: the eye every image score sees with.
public final class Judge {
    public let set: JudgedSet
    public let recipe: JudgeRecipe
    let network: Sequential
    /// Where the weights are cached.
    public let path: String
    /// Whether this judge was trained now (false: read from the cache).
    public let trainedNow: Bool
    /// The share of the held-out images it classifies right, measured once when it was trained and
    /// kept in the cache (Fashion-MNIST's 10,000 test images need not be judged on every use).
    public private(set) var heldOutAccuracy = 0.0
    /// Seconds the training took (0 when read from the cache).
    public let trainingSeconds: Double

    /// The judge for `set`: read from `dataFolder/judges/` when a cache for exactly this recipe
    /// and data exists and reads back whole; otherwise trained now (with `progress` lines) and
    /// cached, atomically. A stale or damaged cache is said and replaced, never used.
    public static func load(_ set: JudgedSet, data: JudgeData, recipe: JudgeRecipe? = nil, dataFolder: String,
                            progress: (String) -> Void = { _ in }) throws -> Judge {
        let recipe = recipe ?? .standard(for: set)
        let arithmetic = try arithmeticFingerprint(recipe, imageShape: set.imageShape, trainingImages: data.training.count)
        let key = recipe.cacheKey(set: set, trainingImages: data.training.count, arithmetic: arithmetic)
        let folder = (dataFolder as NSString).appendingPathComponent("judges")
        let path = (folder as NSString).appendingPathComponent("\(set.rawValue)-\(key).safetensors")
        var random = RandomSource(seed: recipe.seed)
        let network = try Architecture(parsing: recipe.architecture).build(using: &random)
        if FileManager.default.fileExists(atPath: path) {
            do {
                let file = try SafeTensors(contentsOf: URL(fileURLWithPath: path))
                guard file.metadata["key"] == key else { throw JudgeCacheMismatch() }
                try Checkpoint(model: network).load(file)
                let judge = Judge(set: set, recipe: recipe, network: network, path: path, trainedNow: false, seconds: 0)
                judge.heldOutAccuracy = file.metadata["held_out_accuracy"].flatMap(Double.init) ?? judge.accuracy(on: data.heldOut)
                return judge
            } catch {
                progress("the cached judge \(path) cannot be used (\(error)); training a new one")
            }
        }
        let start = Date()
        // On the portable kernels: a judge's weights, and so every score, are the same on every machine.
        withProductKernels(.portable) { train(network, on: data.training, recipe: recipe, using: &random, progress: progress) }
        let judge = Judge(set: set, recipe: recipe, network: network, path: path, trainedNow: true, seconds: Date().timeIntervalSince(start))
        judge.heldOutAccuracy = judge.accuracy(on: data.heldOut)
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Checkpoint(model: network).save(to: URL(fileURLWithPath: path), metadata: [
                "key": key, "set": set.rawValue, "architecture": recipe.architecture, "held_out_accuracy": String(judge.heldOutAccuracy)])
        } catch {
            progress("could not cache the judge in \(folder) (\(error)); it will be trained again next time")
            return judge
        }
        if recipe == .standard(for: set) { removeStaleJudges(of: set, in: folder, keeping: key, progress: progress) }
        return judge
    }

    /// Removes the cached judges of `set` made under other keys (an earlier recipe, other data or
    /// other arithmetic): no later load can use them. Only the lab's own names, `set-<hex key>.safetensors`.
    private static func removeStaleJudges(of set: JudgedSet, in folder: String, keeping key: String, progress: (String) -> Void) {
        let prefix = "\(set.rawValue)-", suffix = ".safetensors"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
            guard name.hasPrefix(prefix), name.hasSuffix(suffix) else { continue }
            let nameKey = name.dropFirst(prefix.count).dropLast(suffix.count)
            guard nameKey != key, (1...16).contains(nameKey.count), nameKey.allSatisfy(\.isHexDigit) else { continue }
            let stale = (folder as NSString).appendingPathComponent(name)
            if (try? FileManager.default.removeItem(atPath: stale)) != nil { progress("removed the judge cached for an earlier recipe or build: \(stale)") }
        }
    }

    /// The bits this recipe's training gives on a made-up set, and the judgement of that set after:
    /// two steps on the portable kernels, a whole batch and then a batch as short as an epoch's last
    /// one on `trainingImages` images (or a second whole one), so that the products run the paths
    /// the real training runs. The cache key carries it: a change to the lab's arithmetic that would
    /// train other weights from the same recipe and data makes a new judge everywhere, instead of
    /// machines with an old cache keeping old weights while fresh ones train new ones. The same on
    /// every machine and thread count (the portable kernels' bits); once per recipe a process.
    static func arithmeticFingerprint(_ recipe: JudgeRecipe, imageShape: [Int], trainingImages: Int) throws -> String {
        let remainder = trainingImages % recipe.batchSize
        let count = recipe.batchSize + (remainder == 0 ? recipe.batchSize : remainder)
        let memo = "\(recipe) \(imageShape) \(count)"
        if let known = fingerprints.withLock({ $0[memo] }) { return known }
        let fingerprint = try probeArithmetic(recipe, imageShape: imageShape, images: count)
        fingerprints.withLock { $0[memo] = fingerprint }
        return fingerprint
    }

    private static let fingerprints = Mutex<[String: String]>([:])

    /// The fingerprint itself, computed afresh: `images` made-up images, trained on for one epoch.
    static func probeArithmetic(_ recipe: JudgeRecipe, imageShape: [Int], images count: Int) throws -> String {
        var random = RandomSource(seed: recipe.seed &+ 0x7072_6f62_65)
        let images = Tensor.uniform(shape: [count] + imageShape, low: -1, high: 1, using: &random)
        let probe = ImageSet(images: images, labels: (0..<count).map { $0 % 10 }, source: "the arithmetic probe")
        let network = try Architecture(parsing: recipe.architecture).build(using: &random)
        var twoSteps = recipe
        twoSteps.epochs = 1
        let logits = withProductKernels(.portable) { () -> Tensor in
            train(network, on: probe, recipe: twoSteps, using: &random, progress: { _ in })
            network.isTraining = false
            return withoutGradients { network(Variable(images)).value }
        }
        var hash = FNV1a()
        for parameter in network.parameters { hash.mix(parameter.value) }
        hash.mix(logits)
        return String(hash.value, radix: 16)
    }

    private init(set: JudgedSet, recipe: JudgeRecipe, network: Sequential, path: String, trainedNow: Bool, seconds: Double) {
        self.set = set
        self.recipe = recipe
        self.network = network
        self.path = path
        self.trainedNow = trainedNow
        self.trainingSeconds = seconds
        network.isTraining = false
        featureLayers = Sequential(Array(network.layers.dropLast()))
        outputLayer = network.layers.last!
    }

    /// Everything up to the penultimate layer's output (the features), and the last layer.
    private let featureLayers: Sequential
    private let outputLayer: Layer

    /// Adam on softmax cross-entropy, a fresh shuffle each epoch, each image moved by up to
    /// `shift` pixels in each direction (the background filling in): 4,500 digits are few, and a
    /// digit moved by two pixels is still the same digit.
    private static func train(_ network: Sequential, on data: ImageSet, recipe: JudgeRecipe, using random: inout RandomSource,
                              progress: (String) -> Void) {
        guard data.labels != nil else { return }
        let optimizer = Adam(parameters: network.parameters, learningRate: recipe.learningRate)
        let stepsPerEpoch = (data.count + recipe.batchSize - 1) / recipe.batchSize
        var batches = ImageBatches(data, batchSize: recipe.batchSize)
        for epoch in 1...recipe.epochs {
            var lossSum = 0.0, correct = 0, seen = 0
            for _ in 0..<stepsPerEpoch {
                let batch = batches.next(using: &random)
                let batchLabels = batch.labels ?? []
                let (loss, predicted, gradients) = { () -> (Float, [Int], [Tensor]) in
                    let logits = network(Variable(shiftedRandomly(batch.images, upTo: recipe.shift, using: &random)))
                    let loss = softmaxCrossEntropy(logits: logits, labels: batchLabels)
                    let predicted = rowMaxima(logits.value)
                    return (loss.value.scalar, predicted, Autodiff.gradients(of: loss, at: optimizer.parameters.map(\.variable)))
                }()
                optimizer.update(with: gradients)
                lossSum += Double(loss) * Double(batchLabels.count)
                correct += zip(predicted, batchLabels).filter { $0 == $1 }.count
                seen += batchLabels.count
            }
            progress("judge for \(data.source): epoch \(epoch)/\(recipe.epochs) · cross-entropy \(String(format: "%.4f", lossSum / Double(seen)))"
                     + " · training accuracy \(String(format: "%.1f", 100 * Double(correct) / Double(seen))) %")
        }
    }

    /// Probabilities, logits and features of images [n, c, h, w] in [-1, 1] of the set's shape
    /// (`set.imageShape`: [1, 28, 28] for the digits and clothes, [3, 64, 64] for the shapes), in batches.
    public func judge(_ images: Tensor, batchSize: Int = 500) -> Judgement {
        let n = images.shape[0]
        var features: [Tensor] = [], logits: [Tensor] = []
        withProductKernels(.portable) {  // the same scores on every machine
            withoutGradients {
                for start in stride(from: 0, to: n, by: batchSize) {
                    let hidden = featureLayers(Variable(images.sliced(alongAxis: 0, start..<min(start + batchSize, n))))
                    features.append(hidden.value)
                    logits.append(outputLayer(hidden).value)
                }
            }
        }
        let allLogits = Tensor.concatenated(logits, alongAxis: 0)
        return Judgement(probabilities: allLogits.softmaxRows(), logits: allLogits, features: .concatenated(features, alongAxis: 0))
    }

    /// The share of `set`'s images whose predicted class is their label.
    public func accuracy(on set: ImageSet) -> Double {
        guard let labels = set.labels, set.count > 0 else { return 0 }
        let predicted = judge(set.images).predictions
        return Double(zip(predicted, labels).filter { $0 == $1 }.count) / Double(set.count)
    }
}
