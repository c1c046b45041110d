import Charts
import Foundation
import GAN
import Kernels
@testable import Lessons
import NN
import XCTest

/// Lesson 8: the conditional DCGAN (digits on demand) and what its checkpoint can do.
final class LessonEightTests: XCTestCase {
    func testConditionalStageSettingsCountsAndQuickRun() throws {
        let lesson = try Lesson(path: try lessonPath(8))
        let conditional = try XCTUnwrap(lesson.stages.first { $0.id == "conditional" }).settings
        XCTAssertEqual(conditional.text("conditioning"), "labels")
        XCTAssertEqual(conditioningClasses(conditional), 10)
        // Lesson 6's class stage with 10 more inputs to G's dense layer and 10 more channels into D's first convolution.
        let six = try XCTUnwrap(try Lesson(path: try lessonPath(6)).stages.first { $0.id == "class" }).settings
        for name in ["noise", "update", "learning-rate", "beta1", "batch-size"] {
            XCTAssertEqual(conditional.text(name), six.text(name), name)
        }
        XCTAssertEqual(conditional.integer("epochs"), 16)  // the lesson's budget; the prose gives 40 epochs' numbers too
        XCTAssertEqual(conditional.text("generator").replacingOccurrences(of: "110", with: "100"), six.text("generator"))
        XCTAssertEqual(conditional.text("discriminator").replacingOccurrences(of: "11x28x28", with: "1x28x28")
            .replacingOccurrences(of: "    -> dropout", with: " -> dropout"),
                       six.text("discriminator").replacingOccurrences(of: "    -> dropout", with: " -> dropout"))
        // The counts the prose states: 10 × 6,272 more weights in G, 10 × 25 × 32 more in D.
        var random = RandomSource(seed: 1)
        for (role, all) in [("generator", 909_472 + 62_720), ("discriminator", 55_233 + 8_000)] {
            let architecture = try Architecture(parsing: conditional.text(role))
            let rows = architecture.build(using: &random).summary(inputShape: [1] + architecture.inputShape)
            XCTAssertEqual(rows.reduce(0) { $0 + $1.parameterCount }, all, role)
        }

        let out = temporaryFolder()
        let (result, output) = try runLesson(try lessonPath(8), out: out, quick: true)
        for name in ["stage-2/samples-epoch-0002.png", "stage-2/judge.png", "stage-2/label-fidelity.png", "stage-2/metrics.png",
                     "stage-2/latent-walk.png", "stage-2/samples.gif", "stage-2/generator-modes.png"] {
            XCTAssertTrue(result.figures.contains { $0.hasSuffix(name) }, name)
        }
        XCTAssertTrue(output.contains("label fidelity"))
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: result.folder + "/summary.json")))
            as? [String: Any])
        let stages = try XCTUnwrap(summary["stages"] as? [[String: Any]])
        let metrics = try XCTUnwrap(stages.first { $0["id"] as? String == "conditional" }?["metrics"] as? [String: Double])
        let fidelity = try XCTUnwrap(metrics["final_label_fidelity"])
        XCTAssertTrue((0...1).contains(fidelity))
        // The ceiling: the judge on real held-out digits, every class well above chance.
        XCTAssertGreaterThan(try XCTUnwrap(metrics["real_label_fidelity"]), 0.9)
        for label in 0..<10 { XCTAssertGreaterThan(try XCTUnwrap(metrics["real_label_fidelity_\(label)"]), 0.8, "class \(label)") }
        // The class mean over the per-class fidelities is the overall one (50 images of each class).
        let perClass = (0..<10).compactMap { metrics["final_label_fidelity_\($0)"] }
        XCTAssertEqual(perClass.count, 10)
        XCTAssertEqual(perClass.reduce(0, +) / 10, fidelity, accuracy: 1e-9)

        // The checkpoint: asked for one class, or for every class in turn; score and export know what it is.
        let checkpoint = result.folder + "/stage-2/generator.safetensors"
        var request = SampleRequest(checkpoint: checkpoint, count: 12, seed: 2, folder: out + "/sevens")
        request.label = 7
        let sevens = try sampleImages(request)
        XCTAssertEqual(sevens.classes, 10)
        XCTAssertTrue(sevens.lines(folder: out + "/sevens", seed: 2)[0].contains("asked for class 7"))
        let noise = try XCTUnwrap(try SafeTensors(data: Data(contentsOf: URL(fileURLWithPath: out + "/sevens/noise.safetensors")))["noise"])
        XCTAssertEqual(noise.shape, [12, 110])
        for row in 0..<12 { XCTAssertEqual(Array(noise.scalars[row * 110 + 100..<row * 110 + 110]), (0..<10).map { $0 == 7 ? 1 : 0 }) }
        request.label = nil
        request.folder = out + "/all"
        _ = try sampleImages(request)
        let inTurn = try XCTUnwrap(try SafeTensors(data: Data(contentsOf: URL(fileURLWithPath: out + "/all/noise.safetensors")))["noise"])
        XCTAssertEqual((0..<12).map { row in (0..<10).first { inTurn.scalars[row * 110 + 100 + $0] == 1 }! }, (0..<12).map { $0 % 10 })
        // The same z whatever the class asked for: only the label differs.
        XCTAssertEqual(Array(inTurn.scalars[0..<100]), Array(noise.scalars[0..<100]))
        request.label = 10
        XCTAssertEqual(refusal { _ = try sampleImages(request) }, "--class 10: choose a class from 0 to 9")
        XCTAssertEqual(try GeneratorCheckpoint.generate(from: checkpoint, set: .mnist, count: 20).images.shape, [20, 1, 28, 28])
        // Export: the generator alone, the whole training state, and the stage before training. The
        // noise asks for every class in turn; D's logits are of the images with their label channels.
        let generatorExport = try exportToPyTorch(PyTorchExportRequest(checkpoint: checkpoint, folder: out + "/export-generator"))
        XCTAssertFalse(generatorExport.hasDiscriminator)
        let models = try String(contentsOfFile: out + "/export-generator/models.py", encoding: .utf8)
        XCTAssertTrue(models.contains("LATENT_SIZE = 100") && models.contains("CLASSES = 10"))
        let training = try exportToPyTorch(PyTorchExportRequest(checkpoint: result.folder + "/stage-2/training.safetensors", folder: out + "/export"))
        XCTAssertTrue(training.hasOptimizers && training.files.contains("train.py"))
        let exported = try SafeTensors(contentsOf: URL(fileURLWithPath: out + "/export/noise.safetensors"))
        let exportedNoise = try XCTUnwrap(exported["noise"])
        XCTAssertEqual(exportedNoise.shape[1], 110)
        XCTAssertEqual(exported.metadata["classes"], "10")
        let count = exportedNoise.shape[0]
        XCTAssertEqual((0..<count).map { row in (0..<10).first { exportedNoise.scalars[row * 110 + 100 + $0] == 1 }! }, (0..<count).map { $0 % 10 })
        let lab = try SafeTensors(contentsOf: URL(fileURLWithPath: out + "/export/lab-samples.safetensors"))
        XCTAssertEqual(lab["images"]?.shape, [count, 1, 28, 28])
        XCTAssertEqual(lab["logits"]?.shape, [count, 1])
        XCTAssertNoThrow(try exportToPyTorch(PyTorchExportRequest(lesson: try lessonPath(8), stage: "conditional", folder: out + "/export-stage")))
    }

    /// An unconditional generator cannot be asked for a class.
    func testAClassOfAnUnconditionalGeneratorIsRefused() throws {
        let folder = temporaryFolder()
        var random = RandomSource(seed: 3)
        let text = "4 -> 16 relu -> 784 tanh -> reshape 1x28x28"
        try GeneratorCheckpoint(set: .mnist, architecture: text, noise: .normal).save(try Architecture(parsing: text).build(using: &random),
                                                                                        to: folder + "/generator.safetensors")
        var request = SampleRequest(checkpoint: folder + "/generator.safetensors", count: 4, seed: 1, folder: folder + "/out")
        request.label = 3
        XCTAssertTrue(refusal { _ = try sampleImages(request) }.contains("is an unconditional generator"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/out"))
    }

    /// The variants stage: lesson 6's class-time networks under every fix, the spectral one the same
    /// discriminator with every weight layer normalised, the conditional one the conditional stage's
    /// networks; the Wasserstein variants as the papers train them.
    func testVariantsStageTrainsEveryFixOnTheSameNetworks() throws {
        let lesson = try Lesson(path: try lessonPath(8))
        let stage = try XCTUnwrap(lesson.stages.first { $0.id == "variants" }).settings
        let six = try XCTUnwrap(try Lesson(path: try lessonPath(6)).stages.first { $0.id == "class" }).settings
        XCTAssertEqual(try Architecture(parsing: stage.text("discriminator")), try Architecture(parsing: six.text("discriminator")))
        XCTAssertEqual(try Architecture(parsing: stage.text("generator")), try Architecture(parsing: six.text("generator")))
        let (variants, problems) = CompareImagesStage.variants(stage.text("variants"))
        XCTAssertEqual(problems, [])
        XCTAssertEqual(variants.map(\.name), ["bce", "one-sided", "soft", "spectral", "wgan", "wgan-gp", "conditional"])
        func change(_ variant: Int, _ key: String) throws -> String { try XCTUnwrap(variants[variant].changes.first { $0.0 == key }).1 }
        let spectral = try Architecture(parsing: try change(3, "discriminator"))
        XCTAssertEqual(spectral.spectralLayers, [0, 3, 7])  // both convolutions and the dense layer
        var plain = spectral
        plain.spectralLayers = []
        XCTAssertEqual(plain, try Architecture(parsing: six.text("discriminator")))
        // Seed 001's recipes: RMSprop 5e-5 and clipping at 0.01; λ 10 and Adam 1e-4 (0.5, 0.9); five critic steps each.
        let wgan = GANConfiguration(variants[4].applied(to: stage)), penalty = GANConfiguration(variants[5].applied(to: stage))
        XCTAssertEqual(wgan.loss, .wasserstein(clip: 0.01))
        XCTAssertEqual(wgan.discriminatorOptimizer.kind, .rmsprop)
        XCTAssertEqual(wgan.discriminatorOptimizer.learningRate, 5e-5)
        XCTAssertEqual(penalty.loss, .wassersteinGradientPenalty(weight: 10))
        XCTAssertEqual([penalty.discriminatorOptimizer.learningRate, penalty.discriminatorOptimizer.beta1, penalty.discriminatorOptimizer.beta2],
                       [1e-4, 0.5, 0.9])
        for configuration in [wgan, penalty] { XCTAssertEqual(configuration.schedule, .alternating(discriminatorSteps: 5)) }
        XCTAssertEqual(GANConfiguration(variants[2].applied(to: stage)).softLabels, 0.1)
        XCTAssertEqual(GANConfiguration(variants[1].applied(to: stage)).realLabel, 0.9)
        let conditional = try XCTUnwrap(lesson.stages.first { $0.id == "conditional" }).settings
        XCTAssertEqual(try Architecture(parsing: try change(6, "generator")), try Architecture(parsing: conditional.text("generator")))
        XCTAssertEqual(try Architecture(parsing: try change(6, "discriminator")), try Architecture(parsing: conditional.text("discriminator")))
        // Quotes keep a value's spaces; an open quote is one clear problem.
        XCTAssertEqual(CompareImagesStage.quotedWords("a=1 b=\"x -> y\" c=2").words, ["a=1", "b=\"x -> y\"", "c=2"])
        XCTAssertEqual(CompareImagesStage.variants("odd: discriminator=\"1x28x28 -> flatten").problems.first,
                       "variants: odd: a quoted value is not closed (write key=\"a value with spaces\")")

        let (result, output) = try runLesson(try lessonPath(8), out: temporaryFolder(), quick: true, stage: "variants")
        for name in ["stage-3/comparison.png", "stage-3/grids.png", "stage-3/d-and-fid.png"] {
            XCTAssertTrue(result.figures.contains { $0.hasSuffix(name) }, name)
        }
        XCTAssertTrue(output.contains("ms a step") && output.contains("label fid."))
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: result.folder + "/summary.json")))
            as? [String: Any])
        let stages = try XCTUnwrap(summary["stages"] as? [[String: Any]])
        let metrics = try XCTUnwrap(stages.first { $0["id"] as? String == "variants" }?["metrics"] as? [String: Double])
        XCTAssertTrue((0...1).contains(try XCTUnwrap(metrics["compare_conditional_label_fidelity_mean"])))
        XCTAssertNil(metrics["compare_bce_label_fidelity_mean"])
        for name in variants.map(\.name) { XCTAssertGreaterThan(try XCTUnwrap(metrics["compare_\(name)_ms_per_step_mean"]), 0, name) }
        // Every number has its words on the lesson's page.
        for key in metrics.keys { XCTAssertNotNil(MetricNames.words(key), key) }
        XCTAssertEqual(MetricNames.words("compare_wgan-gp_d_fid_rank_correlation_mean")?.hasPrefix("wgan-gp: Spearman's ρ"), true)
    }

    /// Spearman's ρ between D's number and the Fréchet distance, and the figure that shows both.
    func testRankCorrelationAndTheTrajectoryFigure() throws {
        XCTAssertEqual(rankCorrelation([1, 2, 3, 4], [10, 20, 25, 100]), 1, accuracy: 1e-12)
        XCTAssertEqual(rankCorrelation([1, 2, 3, 4], [4, 3, 2, 1]), -1, accuracy: 1e-12)
        XCTAssertEqual(rankCorrelation([1, 1, 1], [1, 2, 3]), 0)
        // Ties share their mean rank: ranks (1.5, 1.5, 3) against (1, 2, 3) give 1.5 / √(1.5 · 2).
        XCTAssertEqual(rankCorrelation([5, 5, 7], [1, 2, 3]), 1.5 / 3.0.squareRoot(), accuracy: 1e-12)
        typealias Point = CompareImagesStage.TrajectoryPoint
        var critic = CompareImagesStage.Cell(), loss = CompareImagesStage.Cell()
        critic.isCritic = true
        critic.trajectories = [[Point(step: 39, discriminatorNumber: 9, frechetDistance: 300), Point(step: 78, discriminatorNumber: 4, frechetDistance: 150),
                                Point(step: 117, discriminatorNumber: 2, frechetDistance: 90)]]
        loss.trajectories = [[Point(step: 39, discriminatorNumber: 1.2, frechetDistance: 300), Point(step: 78, discriminatorNumber: 1.3, frechetDistance: 150),
                              Point(step: 117, discriminatorNumber: 1.1, frechetDistance: 90)]]
        XCTAssertEqual(critic.rankCorrelations, [1])
        XCTAssertEqual(loss.rankCorrelations[0], 0.5, accuracy: 1e-12)
        let variants = CompareImagesStage.variants("wgan-gp; bce").variants
        let chart = CompareImagesStage.trajectoryChart(variants: variants, cells: [critic, loss])
        XCTAssertEqual(chart.panels.count, 2)
        let path = temporaryFolder() + "/d-and-fid.png"
        try render(chart, to: path)
        XCTAssertGreaterThan(try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int), 10_000)
    }

    /// Seed 000's 64×64 colour DCGAN as written (its parameter counts, its output a 3×64×64 picture),
    /// and the narrower one the lesson trains on the lab's shapes, in quick mode.
    func testColourStagesHoldSeedZerosNetworksAndTrainANarrowerOne() throws {
        let lesson = try Lesson(path: try lessonPath(8))
        let models = try XCTUnwrap(lesson.stages.first { $0.id == "colour-models" }).settings
        var random = RandomSource(seed: 1)
        func counts(_ text: String) throws -> (total: Int, trainable: Int, output: [Int]) {
            let architecture = try Architecture(parsing: text)
            let rows = architecture.build(using: &random).summary(inputShape: [1] + architecture.inputShape)
            return (rows.reduce(0) { $0 + $1.parameterCount }, rows.reduce(0) { $0 + $1.trainableCount }, Array(rows.last!.outputShape.dropFirst()))
        }
        // Dense 100→4·4·1024 (1,654,784), transposed convolutions of 512, 256, 128 and 3 filters 4×4 with their
        // biases (8,389,120; 2,097,408; 524,416; 6,147), four batch normalisations (3,840 trainable, 3,840 running).
        let generator = try counts(models.text("generator"))
        XCTAssertEqual(generator.total, 12_679_555)
        XCTAssertEqual(generator.trainable, 12_675_715)
        XCTAssertEqual(generator.output, [3, 64, 64])
        // Convolutions of 64, 128, 256 and 512 filters (3,136; 131,200; 524,544; 2,097,664), three batch
        // normalisations (1,792 and 1,792), the dense layer (8,193).
        let discriminator = try counts(models.text("discriminator"))
        XCTAssertEqual(discriminator.total, 2_768_321)
        XCTAssertEqual(discriminator.trainable, 2_766_529)
        XCTAssertEqual(discriminator.output, [1])

        let colour = try XCTUnwrap(lesson.stages.first { $0.id == "colour" }).settings
        XCTAssertEqual(colour.text("data"), "shapes")
        XCTAssertEqual(try counts(colour.text("generator")).output, [3, 64, 64])
        // A quarter of seed 000's widths (256 to 32 filters in G, 16 to 128 in D): a sixteenth of its weights.
        XCTAssertEqual(try counts(colour.text("generator")).total, 1_105_507)
        XCTAssertEqual(try counts(colour.text("discriminator")).total, 175_985)
        let (result, output) = try runLesson(try lessonPath(8), out: temporaryFolder(), quick: true, stage: "shapes")
        for name in ["stage-4/samples.png", "stage-6/samples-epoch-0002.png", "stage-6/samples.gif", "stage-6/judge.png"] {
            XCTAssertTrue(result.figures.contains { $0.hasSuffix(name) }, name)
        }
        XCTAssertTrue(output.contains("12,679,555"))
        // Every number of the colour stages has its words on the lesson's page.
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: result.folder + "/summary.json")))
            as? [String: Any])
        for stage in try XCTUnwrap(summary["stages"] as? [[String: Any]]) {
            for key in (stage["metrics"] as? [String: Double] ?? [:]).keys { XCTAssertNotNil(MetricNames.words(key), key) }
        }
    }

    /// Networks that do not read the label where a conditional stage gives it get one line naming the fix.
    func testConditionalNetworksThatDoNotFitAreRefused() throws {
        let path = try lessonPath(8)
        let plainD = "conditional.discriminator=1x28x28 -> conv 32 5x5 stride 2 same -> leaky 0.3 -> flatten -> dense 1"
        XCTAssertTrue(refusal { _ = try Lesson(path: path, overrides: [plainD]) }.contains("its input must be 11x28x28 for 10 classes"))
        let plainG = "conditional.generator=10 -> dense 784 -> tanh -> reshape 1x28x28"
        XCTAssertTrue(refusal { _ = try Lesson(path: path, overrides: [plainG]) }.contains("such as 110 (100 + 10)"))
        XCTAssertTrue(refusal { _ = try Lesson(path: path, overrides: ["conditional.views=features"]) }.contains("the features view"))
    }

    /// The conditional stage's claim, as a rate over seeds: asked for a class, the generator makes
    /// that class far more often than chance (1 in 10), on any machine. Run at 16 epochs (1,248
    /// steps), the judge once at the end; seeds 1–6 on one machine ended at 52–66 % (mean
    /// 59 ± 2 %, `gan-lab sweep 8 --stage conditional --seeds 1-6 --set conditional.epochs=16`), and
    /// the run swings on its way (seed 1 dips to 36 % at step 936): 30 %, three times chance, on
    /// two seeds of three leaves room for another machine's swings.
    func testConditionalGeneratorMakesTheClassAskedForOnMostSeeds() throws {
        #if DEBUG
        throw XCTSkip("full-length training runs in release mode: swift test -c release")
        #else
        let lesson = try Lesson(path: lessonPath(8), overrides: ["conditional.epochs=16", "conditional.latent-walk=0",
                                                                  "conditional.snapshot-every=16", "conditional.judge-every=16"])
        let runs = try Sweep(lesson: lesson, stage: "conditional", seeds: [1, 2, 3])
            .run(outputRoot: temporaryFolder(), quick: false, threads: RunOptions().threads) { _ in }
        let fidelities = runs.map { $0.metrics["final_label_fidelity"] ?? 0 }
        XCTAssertGreaterThanOrEqual(fidelities.filter { $0 >= 0.3 }.count, 2, "\(fidelities)")
        #endif
    }
}
