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

    /// The image set a stage's `data` names (mnist or fashion-mnist), as a one-line error when missing or corrupt.
    static func load(_ set: JudgedSet) throws -> ImageSet {
        do {
            return try (set == .mnist ? ImageSource.mnist : .fashionMNIST).load(dataFolder: ImageDataView.dataFolder)
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
        let configuration = GANConfiguration(settings)
        trainer = GANTrainer(generator: networks.generator, discriminator: networks.discriminator, latentSize: generatorArchitecture.inputSize,
                             configuration: configuration)
        (epochs, stepsPerEpoch) = ImageGAN.length(settings, imageCount: images.count, quick: quick)
        let batches = BatchSource(ImageBatches(images, batchSize: configuration.batchSize,
                                               withReplacement: settings.text("batches") == "with-replacement"))
        self.batches = batches
        loop = TrainingLoop(trainer: trainer, stage: stage, totalSteps: epochs * stepsPerEpoch,
                            decayTo: Float(settings.number("decay-to")), recordsRows: recordsRows, random: random.split()) { count, random in
            var batch = batches.batches.next(using: &random)
            if batch.count < count { batch = batches.batches.next(using: &random) }  // an epoch's short last batch is dropped
            return batch.images
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

    /// D's mean score of `images` in inference mode: no dropout drawn, no running statistics moved,
    /// so measuring never changes the training that follows.
    func meanScore(_ images: Tensor) -> Double {
        Double(trainer.discriminator.running(in: .inference) { trainer.discriminate(images) }.mean())
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

/// A grid chart of images [n, C, H, W], `columns` wide.
func imageGrid(_ images: Tensor, title: String, columns: Int) -> ImageGridChart {
    ImageGridChart(title: title, images: gridImages(images), columns: columns)
}

/// The judge of an image set with its scorer, how many images it scores at a time, and the
/// ceiling: that many real images it never trained on.
struct ImageJudging {
    let scorer: Scorer
    let count: Int
    let ceiling: ImageScores

    init(_ set: JudgedSet, setSize: Int, console: Console) throws {
        let (data, judge) = try loadJudge(set) { console.progress($0, final: true) }
        scorer = Scorer(judge: judge, data: data)
        count = min(setSize, data.heldOut.count)
        ceiling = scorer.ceiling(count: count)
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
    let x = Axis(xLabel)
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
/// fakes and on the G step's own — each faint per step with its running mean drawn over it.
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
    let losses = LineChart(title: "Losses (lines: running means over \(window) steps) and D's accuracy", x: x, y: Axis("loss"),
                           secondaryY: Axis("accuracy", domain: 0...1),
                           series: series("D loss", \.discriminatorLoss, color: Theme.real) + series("G loss", \.generatorLoss, color: Theme.fake)
                               + series("D accuracy", { ($0.realAccuracy + $0.fakeAccuracy) / 2 }, color: Theme.palette[4], secondary: true))
    let scores = LineChart(title: "D's scores: D(x) on real images, D(G(z)) on the D step's fakes and on the G step's", x: x,
                           y: Axis("D's output (probability)", domain: 0...1),
                           series: series("D(x)", \.realScore, color: Theme.real) + series("D(G(z)), D step", \.fakeScore, color: Theme.fake)
                               + series("D(G(z)), G step", \.generatorStepFakeScore, color: Theme.palette[4]))
    return SmallMultiplesChart(title: title, panels: [losses, scores], columns: 1, shareAxes: true, shareLegend: false)
}
