import Data
import Foundation
import GAN
import Kernels
@testable import Lessons
import NN
import XCTest

/// The exported folder run by PyTorch: sample.py must make the lab's images of the same noise, and
/// the discriminator the lab's logits of the same images, within 1e-4, for checkpoints and for
/// lessons' stages exported before training (a DCGAN and toy GANs on points). Opt-in: runs only when the
/// repository has `.venv-peers/bin/python` with torch (scripts/peer_env.py makes it); CI skips it.
/// `GAN_LAB_EXPORT_CHECKPOINTS` (paths joined by ":") adds checkpoints of real lesson runs.
final class PyTorchExportPeerTests: XCTestCase {
    /// The repository's peer Python, if it has one.
    static let python: String? = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }  // Tests/LessonsTests/file → the package
        let path = url.appendingPathComponent(".venv-peers/bin/python").path
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }()

    func testPyTorchReproducesTheLab() throws {
        guard let python = Self.python else { throw XCTSkip("no .venv-peers/bin/python in the package (scripts/peer_env.py makes it)") }
        let folder = temporaryFolder()
        var checkpoints: [(name: String, path: String)] = []
        for (name, generator, discriminator) in [
            ("DCGAN", PyTorchExportTests.dcganGenerator, PyTorchExportTests.dcganDiscriminator),
            ("Fashion MLP", PyTorchExportTests.mlpGenerator, PyTorchExportTests.mlpDiscriminator),
        ] {
            try FileManager.default.createDirectory(atPath: folder + "/" + name, withIntermediateDirectories: true)
            checkpoints.append((name, try PyTorchExportTests.trainingCheckpoint(in: folder + "/" + name, generator: generator, discriminator: discriminator)))
        }
        let extra = ProcessInfo.processInfo.environment["GAN_LAB_EXPORT_CHECKPOINTS"] ?? ""
        checkpoints += extra.split(separator: ":").map { ("given", String($0)) }

        var requests = checkpoints.enumerated().map { index, checkpoint in
            (checkpoint.name, checkpoint.path, PyTorchExportRequest(checkpoint: checkpoint.path, folder: folder + "/export-\(index)"))
        }
        // Lessons' stages before training: lesson 6's class-time DCGAN, lesson 8's conditional one (its
        // noise asks for every class in turn, its discriminator reads the label channels) and its 64×64
        // colour DCGAN, lesson 1's toy MLP GAN on points and lesson 4's, whose networks have fixed
        // scalings around them.
        for (lesson, stage) in [(6, "class"), (8, "conditional"), (8, "colour"), (1, "works"), (4, "collapse")] {
            let path = try lessonPath(lesson)
            requests.append(("lesson \(lesson) stage \(stage) before training", path,
                             PyTorchExportRequest(lesson: path, stage: stage, folder: folder + "/export-lesson-\(lesson)-\(stage)")))
        }

        for (name, path, var request) in requests {
            let out = request.folder
            request.count = 64
            let result = try exportToPyTorch(request)
            let (status, output) = try runProcess(python, ["sample.py"], in: out)
            XCTAssertEqual(status, 0, "\(name): sample.py failed:\n\(output)")
            guard status == 0 else { continue }
            let lab = try SafeTensors(contentsOf: URL(fileURLWithPath: out + "/lab-samples.safetensors"))
            let torch = try SafeTensors(contentsOf: URL(fileURLWithPath: out + "/samples.safetensors"))
            let kind = result.outputName  // "images", or "samples" for points
            let images = maximumDifference(try XCTUnwrap(torch[kind]), try XCTUnwrap(lab[kind]))
            XCTAssertLessThanOrEqual(images, 1e-4, "\(name) (\(path)): \(kind)")
            var line = "\(name) (\(path)): max |PyTorch − lab| \(kind) \(images)"
            if result.hasDiscriminator {
                let logits = maximumDifference(try XCTUnwrap(torch["logits_of_lab_\(kind)"]), try XCTUnwrap(lab["logits"]))
                let ownImages = maximumDifference(try XCTUnwrap(torch["logits"]), try XCTUnwrap(lab["logits"]))
                XCTAssertLessThanOrEqual(logits, 1e-4, "\(name) (\(path)): logits of the lab's images")
                line += ", logits of the same images \(logits), logits of each one's own images \(ownImages)"
            }
            print(line)
            XCTAssertTrue(output.contains("generator: max |PyTorch − lab|"), output)
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + (kind == "images" ? "/samples.png" : "/samples.csv")))
        }
    }

    /// train.py of a stage exported before training (no optimiser state) trains from step 0 with
    /// fresh optimisers on the CPU, and writes what the lab reads back.
    func testTrainFromScratchRunsOnTheCPU() throws {
        guard let python = Self.python else { throw XCTSkip("no .venv-peers/bin/python in the package (scripts/peer_env.py makes it)") }
        let folder = temporaryFolder()
        var random = RandomSource(seed: 5)
        let rows = (0..<128).map { _ in ((0..<784).map { _ in String(random.index(below: 256)) } + [String(random.index(below: 10))]).joined(separator: ",") }
        try Data(rows.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: folder + "/digits.csv"))
        // Lesson 8's colour stage trains on the shapes the export writes beside train.py (its default data).
        for (lesson, stage, inputSize) in [(6, "class", 100), (8, "conditional", 110), (8, "colour", 100)] {
            let out = folder + "/\(lesson)-\(stage)"
            _ = try exportToPyTorch(PyTorchExportRequest(lesson: try lessonPath(lesson), stage: stage, folder: out + "/export"))
            let data = stage == "colour" ? [] : ["--data", folder + "/digits.csv"]
            let (status, output) = try runProcess(python, ["train.py", "--steps", "3", "--log-every", "1", "--sample-every", "3", "--device", "cpu",
                                                    "--out", out + "/run"] + data, in: out + "/export")
            XCTAssertEqual(status, 0, output)
            XCTAssertTrue(output.contains("step 1: D loss") && output.contains("step 3: D loss"), output)
            print("lesson \(lesson) stage \(stage) from scratch, 3 steps in PyTorch:", output.split(separator: "\n").joined(separator: "; "))
            let optimizer = try SafeTensors(contentsOf: URL(fileURLWithPath: out + "/run/optimizer.safetensors"))
            XCTAssertEqual(optimizer["generator_optimizer.step"]?.scalar, 3)
            XCTAssertEqual(optimizer["discriminator_optimizer.step"]?.scalar, 3)
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/run/samples-step-000003.png"))
            let trained = try TrainedGenerator(path: out + "/run/generator.safetensors")
            XCTAssertEqual(trained.architecture.inputSize, inputSize)
            XCTAssertEqual(trained.classes, inputSize - 100)
        }
        // train.py reads the shapes as the lab has them: one image of every class, pixel for pixel.
        let script = "from train import load_images; from labfiles import save_tensors; "
            + "x, y = load_images('shapes-images-idx4-ubyte.gz'); save_tensors('picked.safetensors', {'images': x[::500], 'labels': y[::500]})"
        let (status, output) = try runProcess(python, ["-c", script], in: folder + "/8-colour/export")
        XCTAssertEqual(status, 0, output)
        let picked = try SafeTensors(contentsOf: URL(fileURLWithPath: folder + "/8-colour/export/picked.safetensors"))
        let shapes = ShapesSet.images().images.scalars, plane = 3 * 64 * 64
        var expected: [Float] = []
        for shape in 0..<10 { expected += shapes[shape * 500 * plane..<(shape * 500 + 1) * plane] }
        XCTAssertEqual(picked["images"]?.shape, [10, 3, 64, 64])
        XCTAssertEqual(picked["images"]?.scalars, expected)
        XCTAssertEqual(picked.integerTensors.first { $0.name == "labels" }?.values, (0..<10).map { Int64($0) })

        // Back in the lab, the conditional generator PyTorch trained is asked for a class.
        var request = SampleRequest(checkpoint: folder + "/8-conditional/run/generator.safetensors", count: 4, seed: 1, folder: folder + "/sevens")
        request.label = 7
        XCTAssertEqual(try sampleImages(request).count, 4)
    }

    /// The toy lessons' train.py: from a stage exported before training, it replays the lab's first
    /// rounds (the same points and noise) and its losses follow the lab's; without --replay it draws
    /// the stage's points itself, and runs under torchrun.
    func testToyTrainFollowsTheLabsLossesAndDrawsItsOwnPoints() throws {
        guard let python = Self.python else { throw XCTSkip("no .venv-peers/bin/python in the package (scripts/peer_env.py makes it)") }
        let folder = temporaryFolder()
        // Lesson 1 (Adam, alternating; its label noise is the trainer's own draw, so it is set to 0 here,
        // as WGAN-GP's ε is left out of the image replays), lesson 2 (joint, 2-D noise), lesson 3
        // (RMSProp with TensorFlow 1's ε, phases: every D and G step of a round on one batch, standardised),
        // lesson 4 (the ring mixture, with the lab's fixed scalings around both networks).
        for (lesson, stage, overrides) in [(1, "works", ["works.label-noise=0"]), (2, "gan-lab", []), (3, "standardized", []),
                                           (4, "collapse", [])] {
            let out = folder + "/\(lesson)-\(stage)"
            var request = PyTorchExportRequest(lesson: try lessonPath(lesson), stage: stage, folder: out + "/export")
            request.overrides = overrides
            _ = try exportToPyTorch(request)
            let file = try Lesson(path: try lessonPath(lesson), overrides: overrides)
            let plan = try XCTUnwrap(file.stages.first { $0.id == stage })
            var random = plan.startingRandom(seed: file.seed)
            let trainer: GANTrainer, draw: (Int, inout RandomSource) -> Tensor
            if lesson == 4 {
                let mixture = plan.settings.mixture
                trainer = CollapseRun(method: try CollapseMethod(plan.settings), mixture: mixture, seed: CollapseStage.runSeed(&random),
                                      totalSteps: 1).trainer
                draw = { count, random in mixture.sample(count: count, using: &random) }
            } else {
                trainer = try TrainingSession.makeTrainer(plan.settings, using: &random)
                let distribution = try plan.settings.toyDistribution()
                draw = { count, random in distribution.sample(count: count, using: &random) }
            }
            let (replay, labLosses) = Self.recordRounds(3, of: trainer, realBatch: draw, using: &random)
            try checkReplay(python, replay: replay, labLosses: labLosses, export: out + "/export", out: out + "/replayed", name: "lesson \(lesson) stage \(stage)")

            // Its own points: samples in the data's units, and a checkpoint to continue from.
            let (drawn, drawnOutput) = try runProcess(python, ["train.py", "--steps", "4", "--log-every", "2", "--sample-every", "4", "--device", "cpu",
                                                        "--out", out + "/run"], in: out + "/export")
            XCTAssertEqual(drawn, 0, drawnOutput)
            let samples = try String(contentsOfFile: out + "/run/samples-step-000004.csv", encoding: .utf8).split(separator: "\n")
            XCTAssertEqual(samples.first, "x,y")
            XCTAssertEqual(samples.count, 1 + 64, "one point for each noise vector of noise.safetensors")
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/run/weights.safetensors"))
        }
        let torchrun = (python as NSString).deletingLastPathComponent + "/torchrun"
        let (status, output) = try runProcess(torchrun, ["--nproc_per_node=2", "train.py", "--steps", "2", "--log-every", "1", "--device", "cpu",
                                                        "--out", folder + "/1-works/ddp"], in: folder + "/1-works/export")
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/1-works/ddp/optimizer.safetensors"), output)
    }

    /// train.py continues the lab's training: from a checkpoint written after two rounds, it replays
    /// the lab's next rounds (the same real batches and noise) and its losses follow the lab's.
    func testTrainFollowsTheLabsLosses() throws {
        guard let python = Self.python else { throw XCTSkip("no .venv-peers/bin/python in the package (scripts/peer_env.py makes it)") }
        let folder = temporaryFolder()
        let withoutDropout = PyTorchExportTests.dcganDiscriminator.replacingOccurrences(of: " -> dropout 0.3", with: "")
        let colour = try XCTUnwrap(try Lesson(path: try lessonPath(8)).stages.first { $0.id == "colour" }).settings
        for (name, generator, discriminator, settings) in [
            ("Fashion MLP: alternating, D's halves separately, fakes in inference mode, Keras's Adam",
             PyTorchExportTests.mlpGenerator, PyTorchExportTests.mlpDiscriminator,
             ["update": "alternating", "discriminator-halves": "separately", "fakes-made-in": "inference-mode", "learning-rate": "1e-3",
              "batch-size": "16", "noise": "normal"]),
            ("DCGAN without dropout: joint, real label 0.9, Adam β1 0.5",
             PyTorchExportTests.dcganGenerator, withoutDropout,
             ["update": "joint", "learning-rate": "2e-4", "beta1": "0.5", "real-label": "0.9", "batch-size": "8", "noise": "normal"]),
            // (WGAN-GP's ε is train.py's own draw, not the lab's, so its critic loss cannot be replayed exactly: clipping can.)
            ("conditional DCGAN without dropout: WGAN with clipping, 2 critic steps, RMSprop 5e-5",
             PyTorchExportTests.dcganGenerator.replacingOccurrences(of: "100 ->", with: "110 ->"),
             withoutDropout.replacingOccurrences(of: "1x28x28", with: "11x28x28"),
             ["update": "alternating", "discriminator-steps": "2", "loss": "wgan", "clip": "0.01", "optimizer": "rmsprop",
              "learning-rate": "5e-5", "batch-size": "8", "noise": "normal", "conditioning": "labels"]),
            ("64×64 colour DCGAN (lesson 8's): joint, Adam 2e-4 β1 0.5, batch norm in both networks",
             colour.text("generator"), colour.text("discriminator"),
             ["update": "joint", "learning-rate": "2e-4", "beta1": "0.5", "batch-size": "4", "noise": "normal", "data": "shapes"]),
        ] {
            let out = folder + "/" + String(name.prefix { $0 != ":" }).replacingOccurrences(of: " ", with: "-")
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let stageSettings = StageSettings(values: ["data": "mnist"].merging(settings) { $1 }.merging(["generator": generator, "discriminator": discriminator]) { $1 },
                                              kind: ImageTrainStage.self)
            var configuration = GANConfiguration(stageSettings)
            configuration.classes = conditioningClasses(stageSettings)
            var random = RandomSource(seed: 21)
            let trainer = GANTrainer(generator: try Architecture(parsing: generator).build(using: &random),
                                     discriminator: try Architecture(parsing: discriminator).build(using: &random),
                                     latentSize: 100, configuration: configuration)
            let imageShape = settings["data"] == "shapes" ? [3, 64, 64] : [1, 28, 28]
            let images = Tensor.uniform(shape: [4 * configuration.batchSize] + imageShape, low: -1, high: 1, using: &random)
            let pool = configuration.classes == 0 ? images
                : GANTrainer.labelled(images, labels: (0..<images.shape[0]).map { $0 % 10 }, classes: configuration.classes)
            var next = 0
            let realBatch: (Int, inout RandomSource) -> Tensor = { count, _ in
                defer { next = (next + count) % pool.shape[0] }
                return pool.sliced(alongAxis: 0, next..<(next + count))
            }
            for _ in 0..<2 {
                var metrics = StepMetrics()
                trainer.round(realBatch: realBatch, into: &metrics, using: &random)
            }
            let checkpoint = out + "/training.safetensors"
            try PyTorchExportTests.save(try TrainingCheckpoint.networks(trainer), to: checkpoint, generator: generator, discriminator: discriminator,
                                        settings: stageSettings.effective)
            // The lab's next rounds, with what they drew.
            let (replay, labLosses) = Self.recordRounds(3, of: trainer, realBatch: realBatch, using: &random)
            _ = try exportToPyTorch(PyTorchExportRequest(checkpoint: checkpoint, folder: out + "/export"))
            guard try checkReplay(python, replay: replay, labLosses: labLosses, export: out + "/export", out: out + "/run", name: name) else { continue }
            // What train.py wrote, the lab reads back.
            XCTAssertNoThrow(try TrainedGenerator(path: out + "/run/generator.safetensors"))
        }
    }

    /// torchrun with two processes on the CPU (gloo) trains a few steps and writes a generator the lab reads back.
    func testTorchrunTrainsOnTwoProcessesAndTheLabReadsTheResult() throws {
        guard let python = Self.python else { throw XCTSkip("no .venv-peers/bin/python in the package (scripts/peer_env.py makes it)") }
        let folder = temporaryFolder()
        let checkpoint = try PyTorchExportTests.trainingCheckpoint(in: folder, generator: PyTorchExportTests.mlpGenerator,
                                                                   discriminator: PyTorchExportTests.mlpDiscriminator)
        _ = try exportToPyTorch(PyTorchExportRequest(checkpoint: checkpoint, folder: folder + "/export"))
        // A small data file in the lab's CSV format: 784 pixels and a label a row.
        var random = RandomSource(seed: 4)
        let rows = (0..<200).map { _ in ((0..<784).map { _ in String(random.index(below: 256)) } + ["0"]).joined(separator: ",") }
        try Data(rows.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: folder + "/digits.csv"))
        let torchrun = (python as NSString).deletingLastPathComponent + "/torchrun"
        let (status, output) = try runProcess(torchrun, ["--nproc_per_node=2", "train.py", "--steps", "4", "--log-every", "2", "--sample-every", "2",
                                                  "--data", folder + "/digits.csv", "--out", folder + "/run"], in: folder + "/export")
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("step 4: D loss"), output)
        for name in ["samples-step-000002.png", "weights.safetensors", "optimizer.safetensors", "generator.safetensors"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/run/" + name), name)
        }
        let optimizer = try SafeTensors(contentsOf: URL(fileURLWithPath: folder + "/run/optimizer.safetensors"))
        XCTAssertEqual(optimizer["generator_optimizer.step"]?.scalar, 4)
        // Back in the lab: `gan-lab sample --checkpoint` on what PyTorch wrote.
        let result = try sampleImages(SampleRequest(checkpoint: folder + "/run/generator.safetensors", count: 4, seed: 1, folder: folder + "/lab"))
        XCTAssertEqual(result.count, 4)
    }

    private func maximumDifference(_ left: Tensor, _ right: Tensor) -> Float {
        XCTAssertEqual(left.shape, right.shape)
        return zip(left.scalars, right.scalars).map { abs($0 - $1) }.max() ?? .infinity
    }

    /// `count` rounds of `trainer`, with the real batches and noise they drew (real.0, noise.0, … as
    /// train.py --replay reads them) and the lab's (D, G) losses of each. In the phases schedule one
    /// real batch and one noise batch serve every step of a round, so they are recorded once.
    static func recordRounds(_ count: Int, of trainer: GANTrainer, realBatch: (Int, inout RandomSource) -> Tensor,
                             using random: inout RandomSource) -> (replay: [(name: String, tensor: Tensor)], losses: [(Float, Float)]) {
        var replay: [(name: String, tensor: Tensor)] = [], reals = 0, noises = 0, losses: [(Float, Float)] = []
        for _ in 0..<count {
            var metrics = StepMetrics()
            var recorded = false
            trainer.round(realBatch: realBatch, into: &metrics, using: &random) { network, real, noise, update in
                defer { update() }
                if case .phases = trainer.configuration.schedule, recorded { return }
                recorded = true
                if network != .generator {
                    replay.append(("real.\(reals)", real))
                    reals += 1
                }
                replay.append(("noise.\(noises)", noise))
                noises += 1
            }
            losses.append((metrics.discriminatorLoss, metrics.generatorLoss))
        }
        return (replay, losses)
    }

    /// Replays the recorded rounds with the export's train.py and checks that its losses follow the
    /// lab's within 1e-3; false (with the failure recorded) when train.py itself fails.
    @discardableResult
    private func checkReplay(_ python: String, replay: [(name: String, tensor: Tensor)], labLosses: [(Float, Float)],
                             export: String, out: String, name: String) throws -> Bool {
        let replayFile = out + "-replay.safetensors", lossesFile = out + "-losses.safetensors"
        try SafeTensors(tensors: replay).write(to: URL(fileURLWithPath: replayFile))
        let (status, output) = try runProcess(python, ["train.py", "--steps", String(labLosses.count), "--replay", replayFile,
                                                "--losses", lossesFile, "--out", out], in: export)
        XCTAssertEqual(status, 0, "\(name): train.py failed:\n\(output)")
        guard status == 0 else { return false }
        let losses = try SafeTensors(contentsOf: URL(fileURLWithPath: lossesFile))
        let torchLosses = Array(zip(try XCTUnwrap(losses["discriminator_loss"]).scalars, try XCTUnwrap(losses["generator_loss"]).scalars))
        XCTAssertEqual(torchLosses.count, labLosses.count)
        let largest = zip(labLosses, torchLosses).map { max(abs($0.0 - $1.0), abs($0.1 - $1.1)) }.max() ?? .infinity
        XCTAssertLessThanOrEqual(largest, 1e-3, "\(name): lab \(labLosses), PyTorch \(torchLosses)")
        print("\(name): \(labLosses.count) rounds replayed, max |PyTorch − lab| over D and G losses \(largest); lab \(labLosses)")
        return true
    }
}
