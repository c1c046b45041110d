import Autodiff
import Data
@testable import CLI
import Foundation
import GAN
import Kernels
@testable import Lessons
import NN
import XCTest

/// `gan-lab export --pytorch` on networks the tests save themselves: the PyTorch code written for
/// them, the files, and the refusals. `testPyTorchReproducesTheLab` runs the exported sample.py
/// when the repository has `.venv-peers/bin/python` (scripts/peer_env.py makes it), and skips otherwise.
final class PyTorchExportTests: XCTestCase {
    /// Lesson 6's networks (the TensorFlow tutorial's DCGAN) and lesson 5's (the Fashion MLP with BatchNorm).
    static let dcganGenerator = "100 -> dense 12544 nobias -> batchnorm -> leaky 0.3 -> reshape 256x7x7 "
        + "-> deconv 128 5x5 stride 1 same nobias -> batchnorm -> leaky 0.3 -> deconv 64 5x5 stride 2 same nobias -> batchnorm -> leaky 0.3 "
        + "-> deconv 1 5x5 stride 2 same nobias -> tanh"
    static let dcganDiscriminator = "1x28x28 -> conv 64 5x5 stride 2 same -> leaky 0.3 -> dropout 0.3 "
        + "-> conv 128 5x5 stride 2 same -> leaky 0.3 -> dropout 0.3 -> flatten -> dense 1"
    static let mlpGenerator = "100 -> 256 leaky 0.2 -> batchnorm momentum 0.8 -> 512 leaky 0.2 -> batchnorm momentum 0.8 "
        + "-> 1024 leaky 0.2 -> batchnorm momentum 0.8 -> 784 tanh -> reshape 1x28x28"
    static let mlpDiscriminator = "1x28x28 -> flatten -> 512 leaky 0.2 -> 256 leaky 0.2 -> 1"

    private func codes(_ text: String) throws -> [String] {
        PyTorchNetwork(className: "Net", architecture: try Architecture(parsing: text)).modules().map(\.code)
    }

    func testTheDCGANIsWrittenWithKerasPaddingMadeExplicit() throws {
        XCTAssertEqual(try codes(Self.dcganGenerator), [
            "nn.Linear(100, 12544, bias=False)",
            "KerasBatchNorm1d(12544, eps=0.001, momentum=0.01)",
            "nn.LeakyReLU(0.3)",
            "Reshape(256, 7, 7)",
            "nn.ConvTranspose2d(256, 128, 5, stride=1, padding=2, bias=False)",  // stride 1: symmetric, PyTorch's own
            "KerasBatchNorm2d(128, eps=0.001, momentum=0.01)",
            "nn.LeakyReLU(0.3)",
            // 7 → full 17 → 14: one row cut at the top and left, two at the bottom and right.
            "CroppedConvTranspose2d(128, 64, 5, stride=2, crop=(1, 2, 1, 2), bias=False)",
            "KerasBatchNorm2d(64, eps=0.001, momentum=0.01)",
            "nn.LeakyReLU(0.3)",
            "CroppedConvTranspose2d(64, 1, 5, stride=2, crop=(1, 2, 1, 2), bias=False)",
            "nn.Tanh()",
        ])
        XCTAssertEqual(try codes(Self.dcganDiscriminator), [
            "PaddedConv2d(1, 64, 5, stride=2, pad=(1, 2, 1, 2))",  // 28 → 14 reads 1 zero row before and 2 after
            "nn.LeakyReLU(0.3)",
            "nn.Dropout(0.3)",
            "PaddedConv2d(64, 128, 5, stride=2, pad=(1, 2, 1, 2))",
            "nn.LeakyReLU(0.3)",
            "nn.Dropout(0.3)",
            "nn.Flatten()",
            "nn.Linear(6272, 1)",
        ])
        // Module i is the lab's layer i: every state_dict name of the lab's network is a module that has it.
        for text in [Self.dcganGenerator, Self.dcganDiscriminator] {
            var random = RandomSource(seed: 1)
            let network = try Architecture(parsing: text).build(using: &random)
            let modules = try codes(text)
            XCTAssertEqual(modules.count, network.layers.count)
            for (name, _) in network.namedTensors {
                let index = Int(name.prefix { $0.isNumber })!
                let module = modules[index]
                XCTAssertTrue(name.hasSuffix(".bias") ? !module.contains("bias=False") && !module.hasPrefix("nn.LeakyReLU")
                              : name.contains("running") ? module.hasPrefix("KerasBatchNorm") : true, "\(name): \(module)")
            }
        }
        let models = PyTorchFiles.models(generator: try Architecture(parsing: Self.dcganGenerator),
                                         discriminator: try Architecture(parsing: Self.dcganDiscriminator), noise: .normal, data: "mnist", source: "a test")
        for expected in ["class Generator(nn.Sequential):", "class Discriminator(nn.Sequential):", "self.discriminator = Discriminator()",
                         "LATENT_SIZE = 100", "torch.randn(count, LATENT_SIZE", "input_shape = (100,)", "output_shape = (1, 28, 28)",
                         "# 7: deconv 64 5x5 stride 2 same nobias (Keras crops the odd extra row and column at the bottom and right) → 64x14x14",
                         "# 1: batchnorm (Keras momentum 0.99) → 12544"] {
            XCTAssertTrue(models.contains(expected), expected)
        }
    }

    func testTheMLPAndOtherLayersAreWrittenAsPyTorchHasThem() throws {
        XCTAssertEqual(try codes(Self.mlpGenerator), [
            "nn.Linear(100, 256)", "nn.LeakyReLU(0.2)", "KerasBatchNorm1d(256, eps=0.001, momentum=0.2)",
            "nn.Linear(256, 512)", "nn.LeakyReLU(0.2)", "KerasBatchNorm1d(512, eps=0.001, momentum=0.2)",
            "nn.Linear(512, 1024)", "nn.LeakyReLU(0.2)", "KerasBatchNorm1d(1024, eps=0.001, momentum=0.2)",
            "nn.Linear(1024, 784)", "nn.Tanh()", "Reshape(1, 28, 28)",
        ])
        XCTAssertEqual(try codes(Self.mlpDiscriminator), ["nn.Flatten()", "nn.Linear(784, 512)", "nn.LeakyReLU(0.2)",
                                                          "nn.Linear(512, 256)", "nn.LeakyReLU(0.2)", "nn.Linear(256, 1)"])
        // Same padding at stride 1: symmetric for odd kernels, one more after for even ones; valid
        // padding; a transposed convolution whose kernel is smaller than its stride grows by zeros.
        XCTAssertEqual(try codes("3x9x9 -> conv 8 3x3 same -> conv 8 4x4 same nobias -> conv 4 3x3 stride 2 -> relu -> sigmoid "
                                 + "-> deconv 2 1x1 stride 2 -> deconv 2 3x3 stride 2 -> batchnorm momentum 0.9 epsilon 1e-05 -> flatten -> 10 linear"), [
            "nn.Conv2d(3, 8, 3, stride=1, padding=1)",
            "PaddedConv2d(8, 8, 4, stride=1, pad=(1, 2, 1, 2), bias=False)",
            "nn.Conv2d(8, 4, 3, stride=2)",
            "nn.ReLU()", "nn.Sigmoid()",
            "CroppedConvTranspose2d(4, 2, 1, stride=2, crop=(0, -1, 0, -1))",  // 4 → 7 in full, Keras makes 8
            "nn.ConvTranspose2d(2, 2, 3, stride=2)",
            "KerasBatchNorm2d(2, eps=1e-05, momentum=0.1)",
            "nn.Flatten()", "nn.Linear(578, 10)",
        ])
        // Spectral normalisation: PyTorch's own wrapper, whose state_dict names are the lab's (weight_orig, weight_u, weight_v).
        XCTAssertEqual(try codes("1x8x8 -> conv 4 4x4 stride 2 same spectral -> leaky 0.2 -> deconv 2 3x3 stride 1 same nobias spectral "
                                 + "-> flatten -> dense 1 spectral"), [
            "nn.utils.spectral_norm(nn.Conv2d(1, 4, 4, stride=2, padding=1))",
            "nn.LeakyReLU(0.2)",
            "nn.utils.spectral_norm(nn.ConvTranspose2d(4, 2, 3, stride=1, padding=1, bias=False))",
            "nn.Flatten()", "nn.utils.spectral_norm(nn.Linear(32, 1))",
        ])
        XCTAssertEqual(PyTorchNetwork.torchMomentum(0.99), "0.01")
        XCTAssertEqual(PyTorchNetwork.torchMomentum(0.8), "0.2")
        XCTAssertEqual(PyTorchNetwork.torchMomentum(1), "0")
        let models = PyTorchFiles.models(generator: try Architecture(parsing: Self.mlpGenerator), discriminator: nil,
                                         noise: .uniform(low: -1, high: 1), data: "mnist", source: "a test")
        XCTAssertTrue(models.contains("torch.rand(count, LATENT_SIZE, generator=generator, device=device) * 2.0 + -1.0"))
        XCTAssertFalse(models.contains("class Discriminator"))
        XCTAssertTrue(models.contains("self.generator = Generator()\n"))
    }

    /// A training checkpoint as a train-images stage writes one: both networks (BatchNorm statistics
    /// and biases set to other values than their first ones, so that a mix-up shows), both Adam
    /// optimisers' state and the metadata the export reads.
    static func trainingCheckpoint(in folder: String, generator: String, discriminator: String, noise: String = "normal") throws -> String {
        var random = RandomSource(seed: 7)
        let networks = [try Architecture(parsing: generator).build(using: &random), try Architecture(parsing: discriminator).build(using: &random)]
        for network in networks {
            for (name, parameter) in network.namedTensors where !name.hasSuffix(".weight") || name.contains("running") || isBatchNorm(network, name) {
                let low: Double = name.hasSuffix("running_var") || (name.hasSuffix(".weight") && isBatchNorm(network, name)) ? 0.5 : -0.2
                parameter.value = Tensor(shape: parameter.value.shape,
                                         scalars: (0..<parameter.value.count).map { _ in Float(random.uniform(low, low + (low > 0 ? 1 : 0.4))) })
            }
        }
        let optimizers = networks.map { Adam(parameters: $0.parameters) }
        let checkpoint = Checkpoint(entries: networks[0].namedTensors.map { ("generator." + $0.name, $0.parameter) }
                                    + networks[1].namedTensors.map { ("discriminator." + $0.name, $0.parameter) },
                                    optimizers: [("generator_optimizer", optimizers[0]), ("discriminator_optimizer", optimizers[1])])
        let settings = StageSettings(values: ["data": "mnist", "noise": noise, "learning-rate": "0.0002", "generator": generator,
                                              "discriminator": discriminator], kind: ImageTrainStage.self)
        let path = folder + "/training.safetensors"
        try save(checkpoint, to: path, generator: generator, discriminator: discriminator, settings: settings.effective)
        return path
    }

    /// Networks and optimisers saved as a train-images stage saves them, with the metadata the export reads.
    static func save(_ checkpoint: Checkpoint, to path: String, generator: String, discriminator: String, settings: [String: String]) throws {
        let settingsText = String(decoding: try JSONSerialization.data(withJSONObject: settings, options: [.sortedKeys]), as: UTF8.self)
        try checkpoint.save(to: URL(fileURLWithPath: path), metadata: [
            "kind": "gan-lab training", "lesson": "6", "lesson_title": "test", "seed": "1", "stage": "test", "stage_number": "1",
            "quick": "true", "generator": generator, "discriminator": discriminator, "settings": settingsText, "progress": "{}"])
    }

    private static func isBatchNorm(_ network: Sequential, _ name: String) -> Bool {
        network.layers[Int(name.prefix { $0.isNumber })!] is BatchNormalization
    }

    func testExportWritesTheFolderFromATrainingCheckpoint() throws {
        let folder = temporaryFolder()
        let path = try Self.trainingCheckpoint(in: folder, generator: Self.mlpGenerator, discriminator: Self.mlpDiscriminator)
        var request = PyTorchExportRequest(checkpoint: path, folder: folder + "/new/export")
        request.count = 10
        let result = try exportToPyTorch(request)
        XCTAssertEqual(Set(result.files), ["models.py", "labfiles.py", "sample.py", "README.md", "weights.safetensors", "train.py", "optimizer.safetensors",
                                           "noise.safetensors", "lab-samples.safetensors"])
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: request.folder)), Set(result.files))
        XCTAssertTrue(result.hasDiscriminator && result.hasOptimizers)

        // The weights: the lab's tensors under the lab's names, and num_batches_tracked (I64) for each BatchNorm.
        let original = try SafeTensors(contentsOf: URL(fileURLWithPath: path))
        let weights = try SafeTensors(contentsOf: URL(fileURLWithPath: request.folder + "/weights.safetensors"))
        let networkNames = original.tensors.map(\.name).filter { $0.hasPrefix("generator.") || $0.hasPrefix("discriminator.") }
        XCTAssertEqual(Set(weights.tensors.map(\.name)), Set(networkNames))
        for name in networkNames { XCTAssertEqual(weights[name]?.scalars, original[name]?.scalars, name) }
        XCTAssertEqual(weights.integerTensors.map(\.name), ["generator.2.num_batches_tracked", "generator.5.num_batches_tracked", "generator.8.num_batches_tracked"])
        XCTAssertTrue(weights.integerTensors.allSatisfy { $0.shape == [] && $0.values == [0] })
        let optimizer = try SafeTensors(contentsOf: URL(fileURLWithPath: request.folder + "/optimizer.safetensors"))
        XCTAssertEqual(Set(optimizer.tensors.map(\.name)), Set(original.tensors.map(\.name).filter { $0.contains("_optimizer.") }))
        XCTAssertTrue(optimizer.metadata["settings"]?.contains("\"learning-rate\":\"0.0002\"") ?? false)
        XCTAssertTrue(optimizer.metadata["settings"]?.contains("\"update\":\"alternating\"") ?? false)  // every setting, defaults too

        // The noise is `gan-lab sample`'s for the same seed and count; the lab's images and logits of it.
        let noise = try XCTUnwrap(try SafeTensors(contentsOf: URL(fileURLWithPath: request.folder + "/noise.safetensors"))["noise"])
        var random = RandomSource(seed: 1)
        XCTAssertEqual(noise.scalars, NoiseDistribution.normal.sample(count: 10, size: 100, using: &random).scalars)
        let lab = try SafeTensors(contentsOf: URL(fileURLWithPath: request.folder + "/lab-samples.safetensors"))
        XCTAssertEqual(lab["images"]?.shape, [10, 1, 28, 28])
        XCTAssertEqual(lab["logits"]?.shape, [10, 1])
        var rebuild = RandomSource(seed: 99)
        let generator = try Architecture(parsing: Self.mlpGenerator).build(using: &rebuild)
        try Checkpoint(entries: generator.namedTensors.map { ("generator." + $0.name, $0.parameter) })
            .load(SafeTensors(tensors: original.tensors.filter { $0.name.hasPrefix("generator.") }))
        generator.isTraining = false
        XCTAssertEqual(lab["images"]?.scalars, withoutGradients { generator(Variable(noise)).value }.scalars)

        let models = try String(contentsOfFile: request.folder + "/models.py", encoding: .utf8)
        XCTAssertTrue(models.contains("KerasBatchNorm1d(256, eps=0.001, momentum=0.2)"))
        XCTAssertTrue(models.contains(path))
        let readme = try String(contentsOfFile: request.folder + "/README.md", encoding: .utf8)
        XCTAssertTrue(readme.contains("python sample.py") && readme.contains("optimizer.safetensors"))
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: request.folder).contains { $0.hasPrefix(".") })
    }

    func testExportOfAGeneratorCheckpointWritesTheGeneratorAlone() throws {
        let folder = temporaryFolder()
        var random = RandomSource(seed: 3)
        let text = "4 -> 16 relu -> batchnorm -> 784 tanh -> reshape 1x28x28"
        let network = try Architecture(parsing: text).build(using: &random)
        let path = folder + "/generator.safetensors"
        try GeneratorCheckpoint(set: .mnist, architecture: text, noise: .uniform(low: -1, high: 1)).save(network, to: path)
        var request = PyTorchExportRequest(checkpoint: path, folder: folder + "/out")
        (request.count, request.seed) = (12, 5)
        let result = try exportToPyTorch(request)
        XCTAssertFalse(result.hasDiscriminator || result.hasOptimizers)
        XCTAssertFalse(result.files.contains("optimizer.safetensors") || result.files.contains("train.py"))
        let weights = try SafeTensors(contentsOf: URL(fileURLWithPath: folder + "/out/weights.safetensors"))
        XCTAssertEqual(weights.tensors.map(\.name), network.namedTensors.map { "generator." + $0.name })
        XCTAssertEqual(weights.integerTensors.map(\.name), ["generator.2.num_batches_tracked"])
        // The same noise and images as `gan-lab sample --seed 5 --n 12`.
        let generator = try TrainedGenerator(path: path)
        let noise = generator.noise(count: 12, seed: 5)
        let lab = try SafeTensors(contentsOf: URL(fileURLWithPath: folder + "/out/lab-samples.safetensors"))
        XCTAssertEqual(try SafeTensors(contentsOf: URL(fileURLWithPath: folder + "/out/noise.safetensors"))["noise"]?.scalars, noise.scalars)
        XCTAssertEqual(lab["images"]?.scalars, generator.images(from: noise).scalars)
        XCTAssertNil(lab["logits"])
        let sample = try String(contentsOfFile: folder + "/out/sample.py", encoding: .utf8)
        XCTAssertFalse(sample.contains("discriminator"))
        XCTAssertTrue(result.lines(folder: folder + "/out").last?.contains("python sample.py") ?? false)
    }

    func testBadInputGetsOneClearLineAndWritesNothing() throws {
        let folder = temporaryFolder()
        let good = try Self.trainingCheckpoint(in: folder, generator: Self.mlpGenerator, discriminator: Self.mlpDiscriminator)
        let out = folder + "/out"
        func problem(_ checkpoint: String, count: Int = 4, out: String = out, file: StaticString = #filePath, line: UInt = #line) -> String {
            var request = PyTorchExportRequest(checkpoint: checkpoint, folder: out)
            request.count = count
            return refusal(file: file, line: line) { _ = try exportToPyTorch(request) }
        }
        func write(_ bytes: Data, _ name: String) throws -> String {
            let path = folder + "/" + name
            try bytes.write(to: URL(fileURLWithPath: path))
            return path
        }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        var cases: [(String, String)] = [
            (problem(folder + "/nowhere.safetensors"), "nowhere.safetensors: no such checkpoint (a `train-images` stage writes training.safetensors or generator.safetensors"),
            (problem(folder), "is a folder; give the training.safetensors or generator.safetensors file"),
            (problem(try write(Data(), "empty.safetensors")), "empty.safetensors: not a checkpoint the lab can read: the file is empty"),
            (problem(try write(Data("import torch\n".utf8), "text.safetensors")), "text.safetensors: not a checkpoint the lab can read: not a safetensors file"),
        ]
        for length in [7, 9, 300, bytes.count / 2, bytes.count - 1] {
            cases.append((problem(try write(bytes.prefix(length), "cut-\(length).safetensors")), "cut-\(length).safetensors: not a checkpoint the lab can read: it is truncated"))
        }
        var random = RandomSource(seed: 2)
        try Checkpoint(model: try Architecture(parsing: Self.mlpDiscriminator).build(using: &random)).save(to: URL(fileURLWithPath: folder + "/d.safetensors"))
        cases.append((problem(folder + "/d.safetensors"), "d.safetensors: a safetensors file but not a checkpoint of the lab's"))
        var file = try SafeTensors(contentsOf: URL(fileURLWithPath: good))
        file.metadata["generator"] = "100 -> 32 relu -> 784 tanh -> reshape 1x28x28"
        cases.append((problem(try write(file.encoded(), "mismatched.safetensors")),
                       "mismatched.safetensors: the networks it describes cannot be rebuilt (checkpoint does not match the model"))
        file = try SafeTensors(contentsOf: URL(fileURLWithPath: good))
        file.metadata["settings"] = "{"
        cases.append((problem(try write(file.encoded(), "damaged.safetensors")), "damaged.safetensors: a training checkpoint whose metadata is damaged"))
        file = try SafeTensors(contentsOf: URL(fileURLWithPath: good))
        file.metadata["discriminator"] = "2 -> 1"
        cases.append((problem(try write(file.encoded(), "points.safetensors")),
                       "its generator makes 1x28x28 images and its discriminator reads 2 numbers: networks that do not fit together"))
        cases.append((problem(good, count: 0), "--n 0: choose 1 to 1000 noise vectors"))
        cases.append((problem(good, count: 1001), "--n 1001: choose 1 to 1000 noise vectors"))
        for (message, expected) in cases { XCTAssertTrue(message.contains(expected), "\(message)\n  expected: \(expected)") }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "nothing written for bad input")

        let aFile = try write(Data("x".utf8), "a-file")
        XCTAssertTrue(problem(good, out: aFile).contains("a-file is a file, not a folder; move it or give another folder with --out"))
        XCTAssertTrue(problem(good, out: aFile + "/sub").contains("cannot create the folder \(aFile)/sub (Not a directory)"))
        if geteuid() != 0 {  // permissions do not stop root
            try FileManager.default.createDirectory(atPath: folder + "/locked", withIntermediateDirectories: true)
            chmod(folder + "/locked", 0o555)
            defer { chmod(folder + "/locked", 0o755) }
            XCTAssertTrue(problem(good, out: folder + "/locked").contains("is not writable; choose another with --out"))
        }
    }

    func testExportCommand() throws {
        let folder = temporaryFolder()
        let path = try Self.trainingCheckpoint(in: folder, generator: Self.mlpGenerator, discriminator: Self.mlpDiscriminator)
        let command = try XCTUnwrap(GanLab.parseAsRoot(["export", "--pytorch", "--checkpoint", path, "--out", folder + "/out", "--n", "3", "--seed", "2"]) as? Export)
        XCTAssertEqual(command.count, 3)
        try command.run()
        XCTAssertEqual(try SafeTensors(contentsOf: URL(fileURLWithPath: folder + "/out/noise.safetensors"))["noise"]?.shape, [3, 100])
        let defaults = try XCTUnwrap(GanLab.parseAsRoot(["export", "--pytorch", "--checkpoint", path, "--out", folder + "/d"]) as? Export)
        XCTAssertEqual(defaults.count, 64)
        XCTAssertNil(defaults.seed)  // the noise's seed 1 for a checkpoint, the lesson's own for a stage
        XCTAssertThrowsError(try GanLab.parseAsRoot(["export", "--pytorch", "--checkpoint", path]))  // --out is required
        let withoutFormat = try XCTUnwrap(GanLab.parseAsRoot(["export", "--checkpoint", path, "--out", folder + "/none"]) as? Export)
        XCTAssertThrowsError(try withoutFormat.run()) { error in
            XCTAssertEqual((error as? LessonError)?.problems, ["say what to export to: --pytorch (the only format so far)"])
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/none"))
    }

    /// Lesson 6's class-time stage before training: the networks `gan-lab lesson 6 --seed 3 --stage
    /// class` starts from, the settings for train.py and no optimiser state.
    func testExportOfAnImageStageBeforeTraining() throws {
        let folder = temporaryFolder()
        var request = PyTorchExportRequest(lesson: try lessonPath(6), stage: "class", folder: folder + "/out")
        (request.count, request.seed, request.overrides) = (6, 3, ["class.batch-size=32"])
        let result = try exportToPyTorch(request)
        XCTAssertEqual(Set(result.files), ["models.py", "labfiles.py", "sample.py", "README.md", "weights.safetensors", "train.py",
                                           "optimizer.safetensors", "noise.safetensors", "lab-samples.safetensors"])
        XCTAssertTrue(result.untrained && result.hasOptimizers && result.hasDiscriminator)

        // The stage's own networks at step 0: built as the stage builds them, from the random source a run of seed 3 gives it.
        let lesson = try Lesson(path: try lessonPath(6), overrides: request.overrides)
        let plan = try XCTUnwrap(lesson.stages.first { $0.id == "class" })
        var random = RandomSource(seed: stageSeed(3, plan.number))
        let images = ImageSet(images: Tensor(shape: [64, 1, 28, 28], scalars: Array(repeating: 0, count: 64 * 784)), labels: nil, source: "test")
        let run = try ImageGAN(plan.settings, images: images, stage: plan.number, quick: true, random: &random)
        let weights = try SafeTensors(contentsOf: URL(fileURLWithPath: request.folder + "/weights.safetensors"))
        let expected = run.trainer.generator.namedTensors.map { ("generator." + $0.name, $0.parameter.value) }
            + run.trainer.discriminator.namedTensors.map { ("discriminator." + $0.name, $0.parameter.value) }
        XCTAssertEqual(weights.tensors.map(\.name), expected.map(\.0))
        for (name, tensor) in expected { XCTAssertEqual(weights[name]?.scalars, tensor.scalars, name) }
        XCTAssertEqual(weights.integerTensors.map(\.name), ["generator.1.num_batches_tracked", "generator.5.num_batches_tracked",
                                                           "generator.8.num_batches_tracked"])
        XCTAssertTrue(weights.integerTensors.allSatisfy { $0.values == [0] })
        XCTAssertEqual(weights.metadata["stage"], "class")
        XCTAssertEqual(weights.metadata["seed"], "3")

        // No optimiser state (train.py starts fresh), the stage's settings with the override.
        let optimizer = try SafeTensors(contentsOf: URL(fileURLWithPath: request.folder + "/optimizer.safetensors"))
        XCTAssertTrue(optimizer.tensors.isEmpty && optimizer.integerTensors.isEmpty)
        let settings = try JSONDecoder().decode([String: String].self, from: Data(try XCTUnwrap(optimizer.metadata["settings"]).utf8))
        XCTAssertEqual(settings["batch-size"], "32")
        XCTAssertEqual(settings["update"], "joint")
        XCTAssertEqual(settings["beta1"], "0.5")
        let train = try String(contentsOfFile: request.folder + "/train.py", encoding: .utf8)
        XCTAssertTrue(train.contains("if step is None or step.item() == 0:"))

        // The noise is seed 3's, as `gan-lab sample --seed 3` draws it; the lab's images and logits of it.
        var noiseRandom = RandomSource(seed: 3)
        let noise = NoiseDistribution.normal.sample(count: 6, size: 100, using: &noiseRandom)
        XCTAssertEqual(try SafeTensors(contentsOf: URL(fileURLWithPath: request.folder + "/noise.safetensors"))["noise"]?.scalars, noise.scalars)
        let lab = try SafeTensors(contentsOf: URL(fileURLWithPath: request.folder + "/lab-samples.safetensors"))
        run.trainer.generator.isTraining = false
        XCTAssertEqual(lab["images"]?.scalars, withoutGradients { run.trainer.generator(Variable(noise)).value }.scalars)
        XCTAssertEqual(lab["logits"]?.shape, [6, 1])
        let readme = try String(contentsOfFile: request.folder + "/README.md", encoding: .utf8)
        XCTAssertTrue(readme.contains("before training") && readme.contains("trains the networks from scratch"))
        XCTAssertTrue(result.lines(folder: request.folder).contains { $0.contains("train.py: trains from scratch") })
    }

    /// The shapes are drawn by the lab, not read from a file: the export writes them beside train.py
    /// (images and classes as gzip IDX files), and train.py reads them by default.
    func testExportOfAShapesStageWritesTheShapesForTrainPy() throws {
        let folder = temporaryFolder()
        let result = try exportToPyTorch(PyTorchExportRequest(lesson: try lessonPath(8), stage: "colour", folder: folder + "/out"))
        XCTAssertEqual(Set(result.files), ["models.py", "labfiles.py", "sample.py", "README.md", "weights.safetensors", "train.py",
                                           "optimizer.safetensors", "shapes-images-idx4-ubyte.gz", "shapes-labels-idx1-ubyte.gz",
                                           "noise.safetensors", "lab-samples.safetensors"])
        XCTAssertTrue(result.hasOptimizers)
        let written = try ImageSource.idx(images: folder + "/out/shapes-images-idx4-ubyte.gz",
                                          labels: folder + "/out/shapes-labels-idx1-ubyte.gz").load()
        let shapes = ShapesSet.images()
        XCTAssertEqual(written.images.shape, [5_000, 3, 64, 64])
        XCTAssertEqual(written.images.scalars, shapes.images.scalars)
        XCTAssertEqual(written.labels, shapes.labels)
        let train = try String(contentsOfFile: folder + "/out/train.py", encoding: .utf8)
        XCTAssertTrue(train.contains(#"DEFAULT_DATA = os.path.join(HERE, "shapes-images-idx4-ubyte.gz")"#))
        let readme = try String(contentsOfFile: folder + "/out/README.md", encoding: .utf8)
        XCTAssertTrue(readme.contains("| `shapes-labels-idx1-ubyte.gz` | their classes (circle, square"), readme)
        XCTAssertTrue(result.lines(folder: folder + "/out").contains { $0.contains("the lab's shapes and their classes, train.py's data") })
        // Stages of the lab's own files point train.py at them.
        _ = try exportToPyTorch(PyTorchExportRequest(lesson: try lessonPath(6), stage: "class", folder: folder + "/digits"))
        let digits = try String(contentsOfFile: folder + "/digits/train.py", encoding: .utf8)
        XCTAssertTrue(digits.contains(#"DEFAULT_DATA = os.path.join(HERE, "/"#), "an absolute path: os.path.join keeps it")
    }

    /// Lesson 1's toy GAN on points: models.py, weights, noise, the lab's points and sample.py, and
    /// train.py with the stage's settings (it draws the stage's points itself).
    func testExportOfAToyStageBeforeTraining() throws {
        let folder = temporaryFolder()
        var request = PyTorchExportRequest(lesson: try lessonPath(1), stage: "4", folder: folder + "/out")
        request.count = 5
        let result = try exportToPyTorch(request)
        XCTAssertEqual(Set(result.files), ["models.py", "labfiles.py", "sample.py", "README.md", "weights.safetensors", "train.py",
                                           "optimizer.safetensors", "noise.safetensors", "lab-samples.safetensors"])
        XCTAssertTrue(result.untrained && result.hasOptimizers)
        XCTAssertTrue(result.lines(folder: request.folder).contains { $0.contains("train.py: trains from scratch") })
        let settings = try JSONDecoder().decode([String: String].self, from: Data(try XCTUnwrap(
            try SafeTensors(contentsOf: URL(fileURLWithPath: request.folder + "/optimizer.safetensors")).metadata["settings"]).utf8))
        XCTAssertEqual(settings["data"], "gaussian")
        XCTAssertEqual(settings["data-std"], "0.5")
        let train = try String(contentsOfFile: request.folder + "/train.py", encoding: .utf8)
        XCTAssertTrue(train.contains("DEFAULT_DATA = None") && train.contains("class Points:"))

        let lesson = try Lesson(path: try lessonPath(1))
        let plan = lesson.stages[3]
        var random = RandomSource(seed: stageSeed(lesson.seed, plan.number))  // the lesson's own seed
        let trainer = try TrainingSession.makeTrainer(plan.settings, using: &random)
        let weights = try SafeTensors(contentsOf: URL(fileURLWithPath: request.folder + "/weights.safetensors"))
        let expected = trainer.generator.namedTensors.map { ("generator." + $0.name, $0.parameter.value) }
            + trainer.discriminator.namedTensors.map { ("discriminator." + $0.name, $0.parameter.value) }
        XCTAssertEqual(weights.tensors.map(\.name), expected.map(\.0))
        for (name, tensor) in expected { XCTAssertEqual(weights[name]?.scalars, tensor.scalars, name) }
        var noiseRandom = RandomSource(seed: lesson.seed)
        let noise = NoiseDistribution.uniform(low: -1, high: 1).sample(count: 5, size: 100, using: &noiseRandom)
        let lab = try SafeTensors(contentsOf: URL(fileURLWithPath: request.folder + "/lab-samples.safetensors"))
        XCTAssertEqual(lab["samples"]?.scalars, withoutGradients { trainer.generator(Variable(noise)).value }.scalars)
        XCTAssertEqual(lab["logits"]?.shape, [5, 1])
        let models = try String(contentsOfFile: request.folder + "/models.py", encoding: .utf8)
        XCTAssertTrue(models.contains("nn.Linear(2, 256)") && models.contains("output_shape = (2,)"))
        let sample = try String(contentsOfFile: request.folder + "/sample.py", encoding: .utf8)
        XCTAssertTrue(sample.contains("samples.csv") && !sample.contains("write_grid"))
        let readme = try String(contentsOfFile: request.folder + "/README.md", encoding: .utf8)
        XCTAssertTrue(readme.contains("To train the networks from scratch"))

        // A stage on a user's points: the points go beside train.py, its default data.
        let points = folder + "/points.csv"
        try Data("x,y\n1,2\n3,4.5\n-1,0\n".utf8).write(to: URL(fileURLWithPath: points))
        var onPoints = PyTorchExportRequest(lesson: try lessonPath(1), stage: "4", folder: folder + "/points")
        onPoints.overrides = ["works.data=points", "works.data-file=\(points)"]
        let written = try exportToPyTorch(onPoints)
        XCTAssertTrue(written.files.contains("points.csv"))
        XCTAssertEqual(try String(contentsOfFile: folder + "/points/points.csv", encoding: .utf8), "x,y\n1,2\n3,4.5\n-1,0\n")
        XCTAssertTrue(try String(contentsOfFile: folder + "/points/train.py", encoding: .utf8)
            .contains(#"DEFAULT_DATA = os.path.join(HERE, "points.csv")"#))
        XCTAssertTrue(try String(contentsOfFile: folder + "/points/README.md", encoding: .utf8).contains("| `points.csv` | the stage's points"))
    }

    /// Lesson 4's collapse stage: its networks with the lab's fixed scalings around them (Scale modules in models.py).
    func testExportOfACollapseStageBeforeTraining() throws {
        let folder = temporaryFolder()
        var request = PyTorchExportRequest(lesson: try lessonPath(4), stage: "collapse", folder: folder + "/out")
        (request.count, request.seed, request.overrides) = (4, 2, ["mixture=grid"])
        let result = try exportToPyTorch(request)
        XCTAssertTrue(result.hasOptimizers && result.files.contains("train.py") && result.files.contains("optimizer.safetensors"))
        let settings = try JSONDecoder().decode([String: String].self, from: Data(try XCTUnwrap(
            try SafeTensors(contentsOf: URL(fileURLWithPath: request.folder + "/optimizer.safetensors")).metadata["settings"]).utf8))
        XCTAssertEqual(settings["mixture"], "grid")
        XCTAssertEqual(settings["decay-to"], "1")
        let lesson = try Lesson(path: try lessonPath(4), overrides: request.overrides)
        let plan = try XCTUnwrap(lesson.stages.first { $0.id == "collapse" })
        var random = RandomSource(seed: stageSeed(2, plan.number))
        let run = CollapseRun(method: try CollapseMethod(plan.settings), mixture: plan.settings.mixture,
                              seed: CollapseStage.runSeed(&random), totalSteps: 1)
        let weights = try SafeTensors(contentsOf: URL(fileURLWithPath: request.folder + "/weights.safetensors"))
        let expected = run.trainer.generator.namedTensors.map { ("generator." + $0.name, $0.parameter.value) }
            + run.trainer.discriminator.namedTensors.map { ("discriminator." + $0.name, $0.parameter.value) }
        XCTAssertEqual(weights.tensors.map(\.name), expected.map(\.0))
        XCTAssertTrue(expected.contains { $0.0 == "discriminator.1.weight" })  // layer 0 is the fixed scaling
        for (name, tensor) in expected { XCTAssertEqual(weights[name]?.scalars, tensor.scalars, name) }
        let models = try String(contentsOfFile: request.folder + "/models.py", encoding: .utf8)
        XCTAssertTrue(models.contains("class Scale(nn.Module):") && models.contains("Scale(4.0),") && models.contains("Scale(0.25),"))
        XCTAssertTrue(models.contains("DATA = \"grid mixture\""))
        let lab = try SafeTensors(contentsOf: URL(fileURLWithPath: request.folder + "/lab-samples.safetensors"))
        XCTAssertEqual(lab["samples"]?.shape, [4, 2])
        let plain = PyTorchFiles.models(generator: try Architecture(parsing: "2 -> 2"), discriminator: nil, noise: .normal, data: "gaussian", source: "a test")
        XCTAssertFalse(plain.contains("class Scale"))
    }

    func testStageExportRefusalsAreOneLineAndWriteNothing() throws {
        let folder = temporaryFolder()
        let out = folder + "/out"
        let checkpoint = try Self.trainingCheckpoint(in: folder, generator: Self.mlpGenerator, discriminator: Self.mlpDiscriminator)
        func problem(checkpoint: String? = nil, lesson: Int? = nil, stage: String? = nil, overrides: [String] = [],
                     line: UInt = #line) throws -> String {
            var request = PyTorchExportRequest(folder: out)
            (request.checkpoint, request.lesson, request.stage, request.overrides) = (checkpoint, try lesson.map(lessonPath), stage, overrides)
            return refusal(line: line) { _ = try exportToPyTorch(request) }
        }
        let exportable = "stages that can be exported: 3 (class), 4 (as-written), 5 (keras-style)"
        for (message, expected) in [
            (try problem(lesson: 6, stage: "digits"), "stage 1 (digits) of lesson 6 is a data stage, which has no networks to export; \(exportable)"),
            (try problem(lesson: 6, stage: "2"), "stage 2 (models) of lesson 6 is a models stage, which has no networks to export; \(exportable)"),
            (try problem(lesson: 6, stage: "nine"),
             "--stage nine: no such stage in lesson 6 (stages: 1 (digits), 2 (models), 3 (class), 4 (as-written), 5 (keras-style)); \(exportable)"),
            (try problem(lesson: 4, stage: "scoreboard"), "stage 4 (scoreboard) of lesson 4 is a scoreboard stage, which trains several GANs side by side, "
                + "not one stage's two networks; stages that can be exported: 2 (collapse)"),
            (try problem(lesson: 4, stage: "packed"), "stage 3 (packed) of lesson 4: its discriminator reads packs of 4 samples, "
                + "which models.py does not write yet; stages that can be exported: 2 (collapse)"),
            (try problem(checkpoint: checkpoint, lesson: 6, stage: "class"), "give either --checkpoint F (a trained stage's file) or LESSON --stage S"),
            (try problem(), "say what to export: --checkpoint F"),
            (try problem(lesson: 6), "without --stage: say which of its stages to export with --stage S"),
            (try problem(stage: "class"), "--stage class: say which lesson it is a stage of"),
            (try problem(checkpoint: checkpoint, overrides: ["batch-size=8"]), "--set changes a lesson's settings, and a checkpoint keeps its own"),
            (try problem(lesson: 6, stage: "class", overrides: ["class.batch-size=0"]), "batch-size"),
        ] {
            XCTAssertTrue(message.contains(expected), "\(message)\n  expected: \(expected)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "nothing written for bad input")
    }

    func testExportCommandOfAStage() throws {
        let folder = temporaryFolder()
        let command = try XCTUnwrap(GanLab.parseAsRoot(["export", "--pytorch", "1", "--stage", "as-written", "--out", folder + "/toy",
                                                        "--n", "3", "--seed", "4", "--set", "noise=normal"]) as? Export)
        XCTAssertEqual(command.lesson, "1")
        XCTAssertEqual(command.overrides, ["noise=normal"])
        try command.run()
        let noise = try SafeTensors(contentsOf: URL(fileURLWithPath: folder + "/toy/noise.safetensors"))
        XCTAssertEqual(noise.metadata["seed"], "4")
        XCTAssertEqual(noise.metadata["noise"], GeneratorCheckpoint.text(of: .normal))
        let both = try XCTUnwrap(GanLab.parseAsRoot(["export", "--pytorch", "6", "--stage", "class", "--checkpoint", "x", "--out", folder + "/no"]) as? Export)
        XCTAssertTrue(refusal { try both.run() }.contains("not both"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/no"))
    }

    func testHelpOfExport() {
        XCTAssertEqual(GanLab.helpMessage(for: Export.self, columns: 80), #"""
OVERVIEW: Hand a checkpoint's or a lesson stage's networks, weights and
optimiser state to PyTorch.

Exports either a checkpoint (--checkpoint F) or a lesson stage's GAN before
training (a train, train-images or collapse stage; LESSON --stage ID: the
networks `gan-lab lesson LESSON --stage ID` starts from, --seed and --set as
there). Writes into the folder (created if missing): models.py (the networks as
nn.Module classes, state_dict names as the lab's), weights.safetensors
(load_state_dict(strict=True)), noise.safetensors and lab-samples.safetensors
(noise and the lab's images or points of it), sample.py (makes them again in
PyTorch and prints how far they are from the lab's), labfiles.py and README.md;
with a stage's settings also optimizer.safetensors and train.py (continues a
checkpoint's training with the stage's recipe, or starts a stage's from step 0
with fresh optimisers; under torchrun too; a toy stage's points and lesson 4's
mixtures it draws itself).

USAGE: gan-lab export [--pytorch] [<lesson>] [--stage <stage>] [--checkpoint <file>] --out <folder> [--set <setting> ...] [--n <n>] [--seed <n>]

ARGUMENTS:
  <lesson>                A lesson number or the path of a lesson file, with
                          --stage: that stage's networks before training.

OPTIONS:
  --pytorch               Write PyTorch code and files (the only format so far).
  --stage <stage>         The stage of LESSON to export (number or id).
  --checkpoint <file>     A training.safetensors (both networks) or
                          generator.safetensors (the generator) a train-images
                          stage wrote.
  --out <folder>          Folder to write into (created if missing).
  --set <setting>         With LESSON: change a setting, key=value (every
                          stage) or stage.key=value.
  --n <n>                 How many noise vectors to export with the lab's
                          images of them (1 to 1000). (default: 64)
  --seed <n>              With --checkpoint: seed of the noise (as gan-lab
                          sample --seed; default 1). With LESSON: the lesson's
                          seed (default its own), for the networks and the
                          noise.
  -h, --help              Show help information.

"""#)
    }
}
