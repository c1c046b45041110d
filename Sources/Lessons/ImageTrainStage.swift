import Charts
import Data
import Evaluation
import Foundation
import GAN
import Kernels
import NN

/// A GAN trained on an image set on the one training loop: a grid of 64 images from fixed noise at
/// every snapshot (and as an animation), the losses, D(x) and D(G(z)), and, when asked, the judge's
/// scores of the generator's images at snapshots (extra columns of metrics.csv) beside the ceiling.
enum ImageTrainStage: StageKind {
    static let name = "train-images"
    static let settings = [
        dataSetting,
        SettingSpec("epochs", .integer(1...1_000_000), "100"),
        SettingSpec("snapshot-every", .integer(1...1_000_000), "10"),
        SettingSpec("batches", .choice(["shuffled", "with-replacement"]), "shuffled"),
        SettingSpec("judge-every", .integer(0...1_000_000), "0"),
        SettingSpec("set-size", .integer(10...10_000), "500"),
    ] + modelSettings + trainingSettings

    static func crossCheck(_ settings: StageSettings) -> [String] {
        var problems = checkModels(settings) + checkTraining(settings)
        if !["mnist", "fashion-mnist"].contains(settings.text("data")) {
            problems.append("data: this stage trains on mnist or fashion-mnist, not \(settings.text("data"))")
        }
        if settings.integer("pack") > 1 { problems.append("pack: packing is for points; image discriminators read one image") }
        return problems
    }

    static func run(_ context: StageContext) throws -> StageOutcome {
        let settings = context.settings, console = context.console
        let set = JudgedSet(rawValue: settings.text("data"))!
        let images: ImageSet
        do {
            images = try (set == .mnist ? ImageSource.mnist : .fashionMNIST).load(dataFolder: ImageDataView.dataFolder)
        } catch let error as DataError {
            throw LessonError([error.message])
        }
        var random = context.random
        let generatorArchitecture = try Architecture(parsing: settings.text("generator"))
        let generator = generatorArchitecture.build(using: &random)
        let discriminator = try Architecture(parsing: settings.text("discriminator")).build(using: &random)
        let configuration = GANConfiguration(settings)
        let trainer = GANTrainer(generator: generator, discriminator: discriminator, latentSize: generatorArchitecture.inputSize,
                                 configuration: configuration)
        let stepsPerEpoch = max(1, images.count / configuration.batchSize)
        let epochs = context.quick ? min(settings.integer("epochs"), 2) : settings.integer("epochs")
        let steps = context.quick ? min(stepsPerEpoch, 4) : stepsPerEpoch
        let snapshotEvery = context.quick ? 1 : settings.integer("snapshot-every")
        let fixedNoise = trainer.sampleNoise(count: 64, using: &random)
        var batches = ImageBatches(images, batchSize: configuration.batchSize, withReplacement: settings.text("batches") == "with-replacement")
        let loop = TrainingLoop(trainer: trainer, stage: context.plan.number, totalSteps: epochs * steps,
                                decayTo: Float(settings.number("decay-to")), random: random.split()) { count, random in
            var batch = batches.next(using: &random)
            if batch.count < count { batch = batches.next(using: &random) }  // an epoch's short last batch is dropped
            return batch.images
        }
        console.line("  \(grouped(images.count)) images; \(grouped(epochs)) epochs × \(grouped(steps)) steps of \(configuration.batchSize); "
            + configuration.summary + "; " + configuration.discriminatorOptimizer.summary)

        // The judge, when the stage scores its generator.
        let judgeEvery = settings.integer("judge-every")
        var scorer: Scorer?
        var judgeNoise = Tensor(shape: [0])
        if judgeEvery > 0 {
            let (data, judge) = try loadJudge(set) { console.progress($0, final: true) }
            scorer = Scorer(judge: judge, data: data)
            judgeNoise = trainer.sampleNoise(count: min(settings.integer("set-size"), data.heldOut.count), using: &random)
        }
        let ceiling = scorer.map { $0.ceiling(count: judgeNoise.shape[0]) }

        var figures: [String] = [], frames: [any Chart] = []
        var judged: [(epoch: Int, scores: ImageScores)] = []
        let digits = max(4, String(epochs).count)
        func snapshot(_ epoch: Int) throws {
            let fakes = generated(trainer, fixedNoise)
            let grid = ImageGridChart(title: "Epoch \(epoch) of \(epochs): 64 images from the same noise", images: (0..<64).map { index in
                GridImage(pixels: fakes.sliced(alongAxis: 0, index..<index + 1).scalars, width: images.width, height: images.height,
                          channels: images.channels)
            }, columns: 8)
            frames.append(grid)
            let label = String(repeating: "0", count: max(0, digits - String(epoch).count)) + String(epoch)
            figures.append(try context.write(grid, name: "samples-epoch-\(label)"))
            if let scorer, epoch % max(judgeEvery, 1) == 0 || epoch == epochs || context.quick {
                let scores = scorer.score(generated(trainer, judgeNoise))
                judged.append((epoch, scores))
                loop.annotateLastRow(scores.values.filter { $0.key != "images" })
                console.line("    epoch \(epoch): judge: FID \(fixed(scores.frechetFeatures, 1)) (ceiling \(fixed(ceiling!.frechetFeatures, 1)))"
                    + " · precision \(fixed(scores.manifold.precision, 2)) · recall \(fixed(scores.manifold.recall, 2))"
                    + " · \(scores.classes.classesWithFairShare) classes · IS \(fixed(scores.inceptionScore.mean, 2))")
            }
        }
        func outcome() -> StageOutcome { StageOutcome(figures: figures, rows: loop.rows) }

        let start = Date()
        try snapshot(0)
        try loop.runEpochs(epochs, steps: steps, console: console, afterEpoch: { epoch in
            if epoch % snapshotEvery == 0 || epoch == epochs { try snapshot(epoch) }
        }, interrupted: { epoch in
            try snapshot(epoch)
            return outcome()
        })
        let epochMeans = loop.epochMeans
        if frames.count >= 2 {
            let path = try context.folder.path(stage: context.plan.number, name: "samples.gif")
            do {
                try renderAnimation(frames, to: path, options: RenderOptions(width: 800, height: 800), frameDelay: 0.4)
            } catch let error as ChartError { throw LessonError([error.message]) }
            context.folder.recordFigure(path)
            figures.append(path)
        }
        figures.append(try context.write(epochChart(epochMeans, title: "Losses and discriminator accuracy per epoch"), name: "metrics"))
        let checkpoint = try context.folder.path(stage: context.plan.number, name: "generator.safetensors")
        do {
            try GeneratorCheckpoint(set: set, architecture: generatorArchitecture.description, noise: configuration.noise)
                .save(generator, to: checkpoint)
        } catch let error as SafeTensorsError {
            throw LessonError([error.description])
        }
        console.line("  wrote \(checkpoint): the generator, for `gan-lab score --data \(set.rawValue) --checkpoint \(checkpoint) --samples 10000`")
        if let ceiling, judged.count >= 2 {
            let xs = judged.map { Double($0.epoch) }
            figures.append(try context.write(LineChart(
                title: "The judge's Fréchet distance over training; dashed: the ceiling (real images it never trained on)",
                x: Axis("epoch"), y: Axis("Fréchet distance, features", logScale: true),
                series: [LineSeries(name: "generated", xs: xs, ys: judged.map { $0.scores.frechetFeatures }, color: Theme.fake),
                         LineSeries(name: "ceiling", xs: [xs.first!, xs.last!], ys: [ceiling.frechetFeatures, ceiling.frechetFeatures],
                                    color: Theme.real, dashed: true)]), name: "judge"))
        }
        var metrics: [String: Double] = ["steps": Double(loop.step), "seconds": (Date().timeIntervalSince(start) * 100).rounded() / 100]
        if let last = epochMeans.last {
            metrics["discriminator_loss"] = Double(last.discriminatorLoss)
            metrics["generator_loss"] = Double(last.generatorLoss)
            metrics["d_x"] = Double(last.realScore)
            metrics["d_g_z"] = Double(last.fakeScore)
        }
        if let last = judged.last {
            for (key, value) in last.scores.values where key != "images" { metrics["final_\(key)"] = value }
        }
        return StageOutcome(figures: figures, metrics: metrics, rows: loop.rows)
    }

    /// G's images for `noise`, in inference mode (batch normalisation on its running statistics).
    static func generated(_ trainer: GANTrainer, _ noise: Tensor) -> Tensor {
        let wasTraining = trainer.generator.isTraining
        trainer.generator.isTraining = false
        defer { trainer.generator.isTraining = wasTraining }
        return trainer.generate(from: noise)
    }
}
