import Charts
import Data
import Evaluation
import Foundation
import GAN
import Kernels
import NN

/// A GAN on an image set as an image stage's settings describe it: the images, both networks,
/// the trainer and the training loop, ready to run `epochs` epochs of `stepsPerEpoch` steps.
/// The train-images and compare-images stages both build their runs here.
struct ImageGAN {
    let images: ImageSet
    let generatorArchitecture: Architecture
    let trainer: GANTrainer
    let loop: TrainingLoop
    let epochs: Int
    let stepsPerEpoch: Int
    /// The real batches the loop draws (a training checkpoint saves and restores their position).
    let batches: BatchSource

    /// The image set a stage's `data` names (mnist, fashion-mnist or shapes), as a one-line error when missing or corrupt.
    static func load(_ set: JudgedSet) throws -> ImageSet {
        do {
            return try set.source.load(dataFolder: ImageDataView.dataFolder)
        } catch let error as DataError {
            throw LessonError([error.message])
        }
    }

    /// Builds the networks from `random` (so runs of one seed start from the same weights), and a
    /// loop drawing its batches and noise from a stream split off it. Quick mode: 2 epochs of 4 steps.
    init(_ settings: StageSettings, images: ImageSet, stage: Int, quick: Bool, recordsRows: Bool = true,
         random: inout RandomSource) throws {
        self.images = images
        let networks = try StageNetworks(settings, using: &random)
        generatorArchitecture = networks.generatorArchitecture
        var configuration = GANConfiguration(settings)
        configuration.classes = conditioningClasses(settings)
        trainer = GANTrainer(generator: networks.generator, discriminator: networks.discriminator,
                             latentSize: generatorArchitecture.inputSize - configuration.classes, configuration: configuration)
        let classes = configuration.classes
        precondition(classes == 0 || images.labels != nil, "a conditional GAN trains on labelled images")
        (epochs, stepsPerEpoch) = ImageGAN.length(settings, imageCount: images.count, quick: quick)
        let batches = BatchSource(ImageBatches(images, batchSize: configuration.batchSize,
                                               withReplacement: settings.text("batches") == "with-replacement"))
        self.batches = batches
        loop = TrainingLoop(trainer: trainer, stage: stage, totalSteps: epochs * stepsPerEpoch,
                            decayTo: Float(settings.number("decay-to")), recordsRows: recordsRows, random: random.split()) { count, random in
            var batch = batches.batches.next(using: &random)
            if batch.count < count { batch = batches.batches.next(using: &random) }  // an epoch's short last batch is dropped
            return classes > 0 ? GANTrainer.labelled(batch.images, labels: batch.labels!, classes: classes) : batch.images
        }
    }

    /// Epochs and steps an epoch: `epoch-steps`, or one pass over the images (quick: 2 epochs of at most 4).
    static func length(_ settings: StageSettings, imageCount: Int, quick: Bool) -> (epochs: Int, stepsPerEpoch: Int) {
        let ownEpoch = settings.integer("epoch-steps")
        let fullEpoch = ownEpoch > 0 ? ownEpoch : max(1, imageCount / settings.integer("batch-size"))
        return quick ? (min(settings.integer("epochs"), 2), min(fullEpoch, 4)) : (settings.integer("epochs"), fullEpoch)
    }

    /// What the run does, for the terminal.
    var description: String {
        let configuration = trainer.configuration
        return "\(grouped(images.count)) images; \(grouped(epochs)) epochs × \(grouped(stepsPerEpoch)) steps of \(configuration.batchSize); "
            + configuration.summary + "; " + configuration.discriminatorOptimizer.summary
    }

    /// Whether G has batch normalisation, so that its two modes make different images.
    var generatorHasModes: Bool { trainer.generator.layers.contains { $0 is BatchNormalization } }

    /// G's images for `noise` in `mode`, leaving G as it was: inference uses the running statistics;
    /// training normalises with the batch's statistics, and its update of the running ones is undone.
    func generated(_ noise: Tensor, mode: NetworkMode = .inference) -> Tensor {
        let generator = trainer.generator
        let saved = generator.buffers.map(\.value)
        defer { for (buffer, value) in zip(generator.buffers, saved) { buffer.value = value } }
        return generator.running(in: mode) { trainer.generate(from: noise) }
    }

    /// D's mean score of G's images for `noise` in inference mode: no dropout drawn, no running
    /// statistics moved, so measuring never changes the training that follows.
    func meanScore(_ images: Tensor, noise: Tensor) -> Double {
        let input = trainer.labelled(images, noise: noise)
        return Double(trainer.discriminator.running(in: .inference) { trainer.discriminate(input) }.mean())
    }

    /// The classes G is asked for, one with each image (a conditional GAN); 0: unconditional.
    var classes: Int { trainer.configuration.classes }

    /// Noise for a grid with one row per class: the same `columns` noise vectors in every row, so
    /// each column keeps its style across classes (unconditional: `columns × columns` vectors).
    func gridNoise(columns: Int, using random: inout RandomSource) -> Tensor {
        guard classes > 0 else { return trainer.sampleNoise(count: columns * columns, using: &random) }
        let z = trainer.configuration.noise.sample(count: columns, size: trainer.latentSize, using: &random)
        let rows = (0..<classes).map { _ in z }
        return trainer.conditionedNoise(Tensor.concatenated(rows, alongAxis: 0),
                                        labels: (0..<classes).flatMap { Array(repeating: $0, count: columns) })
    }

    /// Noise for `count` images to judge: a conditional GAN's asks for every class in turn (0, 1, …, 9, 0, …).
    func judgeNoise(count: Int, using random: inout RandomSource) -> Tensor {
        guard classes > 0 else { return trainer.sampleNoise(count: count, using: &random) }
        let z = trainer.configuration.noise.sample(count: count, size: trainer.latentSize, using: &random)
        return trainer.conditionedNoise(z, labels: (0..<count).map { $0 % classes })
    }
}

/// Image batches shared by the loop that draws them and the checkpoint that saves where they are.
final class BatchSource {
    var batches: ImageBatches

    init(_ batches: ImageBatches) { self.batches = batches }
}

/// The images of a tensor [n, C, H, W], one grid cell each.
func gridImages(_ images: Tensor) -> [GridImage] {
    let (channels, height, width) = (images.shape[1], images.shape[2], images.shape[3])
    return (0..<images.shape[0]).map { index in
        GridImage(pixels: images.sliced(alongAxis: 0, index..<index + 1).scalars, width: width, height: height, channels: channels)
    }
}

/// A grid chart of images [n, C, H, W], `columns` wide, each row labelled when `rowLabels` are given.
func imageGrid(_ images: Tensor, title: String, columns: Int, rowLabels: [String] = []) -> ImageGridChart {
    ImageGridChart(title: title, images: gridImages(images), columns: columns, rowLabels: rowLabels)
}

/// The judge of an image set with its scorer, how many images it scores at a time, and the
/// ceiling: that many real images it never trained on.
struct ImageJudging {
    let scorer: Scorer
    let count: Int
    let ceiling: ImageScores
    /// Real images the judge never trained on, with their labels.
    let heldOut: ImageSet

    init(_ set: JudgedSet, setSize: Int, console: Console) throws {
        let (data, judge) = try loadJudge(set) { console.progress($0, final: true) }
        scorer = Scorer(judge: judge, data: data)
        count = min(setSize, data.heldOut.count)
        ceiling = scorer.ceiling(count: count)
        heldOut = data.heldOut
    }

    /// The judge's scores of G's images for `noise`, and for a conditional GAN how often it gives
    /// them the class their noise asked for (one pass of the judge for both).
    func score(_ images: Tensor, asked noise: Tensor, trainer: GANTrainer) -> (scores: ImageScores, fidelity: LabelFidelity?) {
        let judgement = scorer.judge.judge(images)
        let classes = trainer.configuration.classes
        return (scorer.score(judgement), classes > 0
            ? LabelFidelity(predicted: judgement.predictions, intended: trainer.labels(ofNoise: noise), classes: classes) : nil)
    }

    /// The judge's accuracy on the held-out real images, per class: the ceiling of label fidelity.
    func realFidelity(classes: Int) -> LabelFidelity {
        LabelFidelity(predicted: scorer.judge.judge(heldOut.images).predictions, intended: heldOut.labels!, classes: classes)
    }

    /// The judge's line for the terminal: each score beside its ceiling where one is meaningful.
    func line(_ scores: ImageScores) -> String {
        "FID \(fixed(scores.frechetFeatures, 1)) (ceiling \(fixed(ceiling.frechetFeatures, 1)))"
            + " · precision \(fixed(scores.manifold.precision, 2)) · recall \(fixed(scores.manifold.recall, 2))"
            + " · coverage \(fixed(scores.manifold.coverage, 2)) · \(scores.classes.classesWithFairShare) classes"
            + " · \(Int((scores.confidentShare * 100).rounded())) % confident · IS \(fixed(scores.inceptionScore.mean, 2))"
    }
}

/// The judge's numbers over training, each beside the ceiling (dashed): Fréchet distance, precision
/// and recall, coverage and the confident share, and the classes holding a fair share.
func judgeChart(steps: [Double], scores: [ImageScores], ceiling: ImageScores, xLabel: String) -> SmallMultiplesChart {
    let ends = [steps.first!, steps.last!]
    func line(_ name: String, _ pick: (ImageScores) -> Double, color: Color) -> [LineSeries] {
        [LineSeries(name: name, xs: steps, ys: scores.map(pick), color: color),
         LineSeries(name: "", xs: ends, ys: [pick(ceiling), pick(ceiling)], color: color, dashed: true)]
    }
    let x = Axis(xLabel, domain: min(steps.first!, 0)...max(steps.last!, 1))  // ends at the last judged step
    let panels: [any Chart] = [
        LineChart(title: "Fréchet distance in the judge's features (dashed: real images)", x: x,
                  y: Axis("Fréchet distance", logScale: true),
                  series: line("generated", \.frechetFeatures, color: Theme.fake)),
        LineChart(title: "Precision and recall (dashed: real images)", x: x, y: Axis("share", domain: 0...1),
                  series: line("precision", \.manifold.precision, color: Theme.palette[0]) + line("recall", \.manifold.recall, color: Theme.palette[1])),
        LineChart(title: "Coverage and confidently classified share (dashed: real images)", x: x, y: Axis("share", domain: 0...1),
                  series: line("coverage", \.manifold.coverage, color: Theme.palette[2]) + line("confident", \.confidentShare, color: Theme.palette[3])),
        LineChart(title: "Classes holding a fair share (dashed: real images)", x: x, y: Axis("classes", domain: 0...10),
                  series: line("classes", { Double($0.classes.classesWithFairShare) }, color: Theme.palette[4])),
    ]
    return SmallMultiplesChart(title: "The judge's scores of 500 images from fixed noise, over training",
                               panels: panels, columns: 2, shareAxes: false, shareLegend: false)
}

/// Per-step curves: both losses with D's accuracy, and D's scores — D(x), D(G(z)) on the D step's
/// fakes and on the G step's own (one curve when one pass of G feeds both updates, as in the joint
/// step, where the two are the same numbers) — each faint per step with its running mean drawn over it.
func stepChart(_ rows: [MetricsRow], title: String) -> SmallMultiplesChart {
    let rows = rows.filter { $0.update == Networks.both.rawValue }
    let xs = rows.map { Double($0.step) }
    let window = max(1, rows.count / 60)
    func series(_ name: String, _ pick: (MetricsRow) -> Float, color: Color, secondary: Bool = false) -> [LineSeries] {
        let ys = rows.map { Double(pick($0)) }
        return [LineSeries(name: "", xs: xs, ys: ys, color: color.withAlpha(0.25), onSecondaryAxis: secondary),
                LineSeries(name: name, xs: xs, ys: ys, color: color, onSecondaryAxis: secondary, smoothing: window)]
    }
    let x = Axis("step")
    let losses = LineChart(title: window > 1 ? "Losses (lines: running means over \(window) steps) and D's accuracy" : "Losses and D's accuracy",
                           x: x, y: Axis("loss"),
                           secondaryY: Axis("accuracy", domain: 0...1),
                           series: series("D loss", \.discriminatorLoss, color: Theme.real) + series("G loss", \.generatorLoss, color: Theme.fake)
                               + series("D accuracy", { ($0.realAccuracy + $0.fakeAccuracy) / 2 }, color: Theme.palette[4], secondary: true))
    let onePass = rows.allSatisfy { $0.generatorStepFakeScore == $0.fakeScore }
    let fakeScores = onePass
        ? series("D(G(z))", \.fakeScore, color: Theme.fake)
        : series("D(G(z)), D step", \.fakeScore, color: Theme.fake) + series("D(G(z)), G step", \.generatorStepFakeScore, color: Theme.palette[4])
    let scores = LineChart(title: onePass ? "D's scores: D(x) on real images, D(G(z)) on the fakes both updates learn from"
                                          : "D's scores: D(x) on real images, D(G(z)) on the D step's fakes and on the G step's",
                           x: x, y: Axis("D's output (probability)", domain: 0...1),
                           series: series("D(x)", \.realScore, color: Theme.real) + fakeScores)
    return SmallMultiplesChart(title: title, panels: [losses, scores], columns: 1, shareAxes: true, shareLegend: false)
}

/// A conditional generator's label fidelity: over training (the share of 500 images the judge puts
/// in the class asked for, dashed: its accuracy on real held-out images), and per class at the end
/// beside the judge's accuracy on real images of that class (classes by number: 0 to 9).
func fidelityChart(steps: [Double], fidelities: [LabelFidelity], real: LabelFidelity) -> SmallMultiplesChart {
    let ends = [steps.first!, steps.last!]
    let overTime = LineChart(title: "Over training (dashed: the judge's accuracy on real images)", x: Axis("step", domain: 0...max(steps.last!, 1)),
                             y: Axis("share", domain: 0...1),
                             series: [LineSeries(name: "label fidelity", xs: steps, ys: fidelities.map(\.overall), color: Theme.fake),
                                      LineSeries(name: "", xs: ends, ys: [real.overall, real.overall], color: Theme.fake, dashed: true)])
    let last = fidelities.last!
    let perClass = BarChart(title: "Per class, at step \(grouped(Int(steps.last!)))", categories: real.perClass.indices.map(String.init),
                            y: Axis("share", domain: 0...1),
                            series: [BarSeries(name: "generated, asked for the class", values: last.perClass.map { $0.isFinite ? $0 : 0 }, color: Theme.fake),
                                     BarSeries(name: "real images of the class", values: real.perClass.map { $0.isFinite ? $0 : 0 }, color: Theme.real)])
    return SmallMultiplesChart(title: "Label fidelity: how often the judge gives a generated image the class it was asked for",
                               panels: [overTime, perClass], columns: 1, shareAxes: false, shareLegend: false)
}
