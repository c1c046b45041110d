import Charts
import Data
import Evaluation
import Foundation
import GAN
import Kernels
import NN

/// A GAN trained on an image set on the one training loop: a grid of 64 images from fixed noise at
/// every snapshot (and as an animation), the tutorial's grid of the last batch's fakes when asked,
/// per-step losses, D(x) and D(G(z)), G's two BatchNorm modes side by side, and, when asked, the
/// judge's scores of the generator's images at snapshots (extra columns of metrics.csv) beside the ceiling.
enum ImageTrainStage: StageKind {
    static let name = "train-images"
    static let settings = imageTrainingSettings + [
        SettingSpec("snapshot-every", .integer(1...1_000_000), "10"),
        SettingSpec("last-fakes-grid", .integer(0...8), "0"),
        SettingSpec("grid-size", .integer(2...16), "8"),
        SettingSpec("latent-walk", .integer(0...16), "0"),
        SettingSpec("views", .text, "samples"),
        SettingSpec("pause-every", .integer(0...1_000_000), "0"),
        SettingSpec("checkpoint-every", .integer(0...1_000_000), "0"),
    ]

    /// The views of an image stage: `samples` (the fixed-noise grid, drawn at every snapshot
    /// whatever the setting says; named so `views` means one thing in every stage kind) and
    /// `features` (D's last hidden layer).
    static let viewNames = ["samples", "features"]

    static func crossCheck(_ settings: StageSettings) -> [String] {
        let views = parseViews(settings.text("views")).filter { $0 != "none" }
        return checkImageTraining(settings)
            + views.filter { !viewNames.contains($0) }.map { "views: unknown view \"\($0)\" (an image stage draws \(viewNames.joined(separator: ", ")))" }
            + (views.contains("features") ? ImageFeatureView.problems(settings.text("discriminator")) : [])
            + (views.contains("features") && settings.text("conditioning") != "none"
                ? ["views: the features view draws unconditional GANs; a conditional stage draws samples only"] : [])
    }

    static func run(_ context: StageContext) throws -> StageOutcome {
        let settings = context.settings, console = context.console
        let set = JudgedSet(rawValue: settings.text("data"))!
        var random = context.random
        let run = try ImageGAN(settings, images: try ImageGAN.load(set), stage: context.plan.number, quick: context.quick, random: &random)
        let (trainer, loop, epochs) = (run.trainer, run.loop, run.epochs)
        let snapshotEvery = context.quick ? 1 : settings.integer("snapshot-every")
        let side = settings.integer("grid-size")
        let fixedNoise = run.gridNoise(columns: side, using: &random)
        let rowLabels = run.classes > 0 ? set.classNames : []  // a conditional GAN's grid: one row per class
        let gridTitle = run.classes > 0 ? "rows ask for classes 0 to \(run.classes - 1), each column one noise vector"
            : "\(side * side) images from the same noise"
        console.line("  " + run.description)

        // D's feature space: drawn from a stream of its own, so adding the view changes no other number.
        var viewRandom = RandomSource(seed: context.random.state &* 0x2545_F491_4F6C_DD1D &+ 0x7669_6577)
        let features = parseViews(settings.text("views")).contains("features") ? ImageFeatureView(run, random: &viewRandom) : nil
        var stepping = context.console.isInteractive
        if let features {
            let observe = loop.observe
            loop.observe = { network, real, noise, update in
                features.observe(network, real: real, noise: noise) { observe(network, real, noise, update) }
            }
            // Around the last round before each snapshot, and every update in step mode.
            loop.beforeStep.append { step, networks in
                features.probing = networks != .both || context.quick
                    || (step % run.stepsPerEpoch == 0 && (loop.epoch % snapshotEvery == 0 || loop.epoch == epochs))
            }
        }

        let judgeEvery = settings.integer("judge-every")
        let judging = judgeEvery > 0 ? try ImageJudging(set, setSize: settings.integer("set-size"), console: console) : nil
        let judgeNoise = judging.map { run.judgeNoise(count: $0.count, using: &random) }
        let realFidelity = run.classes > 0 ? judging?.realFidelity(classes: run.classes) : nil
        if let realFidelity { console.line("  the judge's accuracy on real held-out images, the ceiling of label fidelity: \(fixed(realFidelity.overall, 3))") }

        // The tutorial's figure: the first fakes of the last D step before a snapshot, as D saw them
        // (made again in the same mode; G's running statistics are left as they were).
        let lastFakesSide = settings.integer("last-fakes-grid")
        var lastFakes: Tensor?
        if lastFakesSide > 0 {
            let observe = loop.observe
            loop.observe = { network, real, noise, update in
                observe(network, real, noise, update)
                if network != .generator, loop.step % run.stepsPerEpoch == 0 {
                    lastFakes = run.generated(noise, mode: trainer.configuration.fakesMode)
                        .sliced(alongAxis: 0, 0..<min(lastFakesSide * lastFakesSide, noise.shape[0]))
                }
            }
        }

        var figures: [String] = [], frames: [(title: String, images: Tensor)] = []  // frames: the animation's grids
        var judged: [(step: Int, scores: ImageScores, fidelity: LabelFidelity?)] = []
        var modes: ModeComparison?  // the last snapshot's: G's two modes on the fixed noise
        let digits = max(4, String(epochs).count)
        func snapshot(_ epoch: Int) throws {
            let label = String(repeating: "0", count: max(0, digits - String(epoch).count)) + String(epoch)
            let when = "Epoch \(epoch) of \(epochs) (step \(grouped(loop.step)))"
            modes = run.generatorHasModes ? ModeComparison(run, fixedNoise, columns: side, rowLabels: rowLabels) : nil
            let frame = (title: "\(when): \(gridTitle)", images: modes?.inference ?? run.generated(fixedNoise))
            let grid = imageGrid(frame.images, title: frame.title, columns: side, rowLabels: rowLabels)
            frames.append(frame)
            figures.append(try context.write(grid, name: "samples-epoch-\(label)"))
            if let fakes = lastFakes, epoch > 0 {
                figures.append(try context.write(imageGrid(fakes, title: "\(when): the last batch's first fakes", columns: lastFakesSide),
                                                 name: "last-fakes-epoch-\(label)"))
            }
            if let features {
                features.record(epoch == 0 ? "before training" : "epoch \(epoch), step \(grouped(loop.step))")
                for (network, chart, line) in features.pairFigures(title: { "\(when): D's feature space around one \($0.name) update" })
                where epoch > 0 {
                    figures.append(try context.write(chart, name: "features-\(network.letter)-epoch-\(label)"))
                    console.line("    " + line)
                }
                features.clear()
            }
            var values = modes?.values ?? [:]
            if let judging, let judgeNoise, epoch % max(judgeEvery, 1) == 0 || epoch == epochs || context.quick {
                let (scores, fidelity) = judging.score(run.generated(judgeNoise), asked: judgeNoise, trainer: trainer)
                judged.append((loop.step, scores, fidelity))
                values.merge(scores.values.filter { $0.key != "images" }) { $1 }
                values.merge(fidelity?.values() ?? [:]) { $1 }
                console.line("    epoch \(epoch): judge: " + judging.line(scores) + (fidelity.map { " · label fidelity \(fixed($0.overall, 2))" } ?? ""))
            }
            loop.annotateLastRow(values)
        }
        func outcome() -> StageOutcome { StageOutcome(figures: figures, rows: loop.rows) }
        func snapshots(_ epoch: Int) -> Bool { epoch % snapshotEvery == 0 || epoch == epochs }

        // The whole training state, at every snapshot (or every `checkpoint-every` epochs), at the end and on Ctrl-C.
        let checkpoint = try context.folder.path(stage: context.plan.number, name: TrainingCheckpoint.fileName)
        let checkpointEvery = settings.integer("checkpoint-every")
        var (savedStep, earlierSeconds) = (-1, 0.0)
        let start = Date()
        func saveCheckpoint() throws {
            guard let owner = context.owner, loop.step != savedStep else { return }
            let position = run.batches.batches.state
            let progress = ImageTrainProgress(
                loop: loop.state, batchesNext: position.next, batchesEpoch: position.epoch,
                dropoutStreams: (dropoutLayers(trainer.generator) + dropoutLayers(trainer.discriminator)).map(\.randomStream.state),
                figures: figures.map(context.folder.relative), frameTitles: frames.map(\.title),
                judged: judged.map { .init(step: $0.step, scores: $0.scores, fidelity: $0.fidelity) }, features: features?.history,
                seconds: earlierSeconds + Date().timeIntervalSince(start))
            try TrainingCheckpoint.write(to: checkpoint, owner: owner, plan: context.plan, quick: context.quick, run: run,
                                         progress: progress, frames: frames.map(\.images))
            savedStep = loop.step
        }

        // Step mode: one update at a time, the fixed-noise grid before and after it, and D's features around it.
        func take(_ networks: Networks) throws -> String {
            let before = run.generated(fixedNoise)
            let metrics = try loop.step(networks)
            let name = String(format: "step-%05d-", loop.step) + networks.fileSuffix
            let grids = SmallMultiplesChart(
                title: "Step \(grouped(loop.step)), one \(networks.words): the same \(fixedNoise.shape[0]) noise vectors before and after",
                panels: [imageGrid(before, title: "before", columns: side, rowLabels: rowLabels),
                         imageGrid(run.generated(fixedNoise), title: "after", columns: side, rowLabels: rowLabels)],
                columns: 2, shareAxes: false, shareLegend: false)
            var written = [try context.write(grids, name: name)]
            let pairs = features?.pairFigures(title: { "Step \(grouped(loop.step)): D's feature space around the \($0.name) update" }) ?? []
            for (network, chart, line) in pairs {
                written.append(try context.write(chart, name: name + "-features" + (pairs.count > 1 ? "-" + network.letter : "")))
                console.line("  " + line)
            }
            features?.clear()
            figures += written
            return "step \(loop.step) · \(networks.words) · " + metricsSummary(metrics) + " · drew "
                + written.map { $0.components(separatedBy: "/").suffix(2).joined(separator: "/") }.joined(separator: ", ")
        }

        if let resume = context.resume {
            try resume.restore(run)
            figures = resume.progress.figures.map { (context.folder.root as NSString).appendingPathComponent($0) }
            figures.forEach(context.folder.recordFigure)
            frames = Array(zip(resume.progress.frameTitles, try resume.frames()))
            judged = resume.progress.judged.map { ($0.step, $0.scores, $0.fidelity) }
            if let history = resume.progress.features { features?.restore(history) }
            if loop.epochMeans.count == epochs, run.generatorHasModes { modes = ModeComparison(run, fixedNoise, columns: side, rowLabels: rowLabels) }
            (savedStep, earlierSeconds) = (loop.step, resume.progress.seconds)
            console.line("  continuing from \(resume.path): \(loop.roundsIntoEpoch == 0 ? "after " : "")epoch \(loop.epoch) of \(epochs), "
                         + "step \(grouped(loop.step))")
        } else {
            try snapshot(0)
        }
        let pauseEvery = settings.integer("pause-every")
        try loop.runEpochs(epochs, steps: run.stepsPerEpoch, console: console, beforeEpoch: { epoch in
            if stepping, epoch == 1 || (pauseEvery > 0 && (epoch - 1) % pauseEvery == 0) {
                stepping = try stepMode(console, epoch: epoch, outcome: outcome, take: take)
            }
        }, afterEpoch: { epoch in
            if snapshots(epoch) { try snapshot(epoch) }
            if (checkpointEvery > 0 ? epoch % checkpointEvery == 0 : snapshots(epoch)) || epoch == epochs { try saveCheckpoint() }
        }, interrupted: { epoch, ended in
            var stopped = StageOutcome()
            if context.owner != nil {
                try saveCheckpoint()  // the state at the end of the step, before the figures of the stop
                console.line("  wrote \(checkpoint): the training so far, to continue with --resume")
                stopped.checkpoint = checkpoint
            }
            if !ended || !snapshots(epoch) { try snapshot(epoch) }
            (stopped.figures, stopped.rows) = (figures, loop.rows)
            return stopped
        })
        let seconds = earlierSeconds + Date().timeIntervalSince(start)
        if frames.count >= 2 {
            let path = try context.folder.path(stage: context.plan.number, name: "samples.gif")
            do {
                try renderAnimation(frames.map { imageGrid($0.images, title: $0.title, columns: side, rowLabels: rowLabels) }, to: path,
                                    options: RenderOptions(width: 800, height: 800), frameDelay: 0.4)
            } catch let error as ChartError { throw LessonError([error.message]) }
            context.folder.recordFigure(path)
            figures.append(path)
        }
        figures.append(try context.write(stepChart(loop.rows, title: "Training, step by step"), name: "metrics"))
        if let modes { figures.append(try context.write(modes.chart, name: "generator-modes")) }
        var metrics: [String: Double] = [:]
        if let features, features.sequence.count >= 2 {
            figures.append(try context.write(features.sequenceChart(), name: "features-sequence"))
            for network in [UpdatedNetwork.discriminator, .generator, .both] {
                guard let moves = features.centroidMoves[network], moves.observed > 0 else { continue }
                let fraction = Double(moves.closer) / Double(moves.observed)
                let name = network.name
                console.line("  \(name) updates that moved the centroids closer together: \(grouped(moves.closer)) of \(grouped(moves.observed))")
                metrics["\(name)_updates_closer_fraction"] = fraction
            }
        }
        if settings.integer("latent-walk") > 0 {
            figures.append(try context.write(latentWalk(run, rows: settings.integer("latent-walk"), classNames: set.classNames, random: &random),
                                             name: "latent-walk"))
        }
        let generatorFile = try context.folder.path(stage: context.plan.number, name: "generator.safetensors")
        do {
            try GeneratorCheckpoint(set: set, architecture: run.generatorArchitecture.description, noise: trainer.configuration.noise,
                                    classes: run.classes).save(trainer.generator, to: generatorFile)
        } catch let error as SafeTensorsError {
            throw LessonError([error.description])
        }
        console.line("  wrote \(generatorFile): the generator, for `gan-lab score --data \(set.rawValue) --checkpoint \(generatorFile) --samples 10000`")
        if context.owner != nil { console.line("  wrote \(checkpoint): the whole training state, to continue from with --resume") }
        if let judging, judged.count >= 2 {
            figures.append(try context.write(judgeChart(steps: judged.map { Double($0.step) }, scores: judged.map(\.scores),
                                                        ceiling: judging.ceiling, xLabel: "step"), name: "judge"))
            if let realFidelity, judged.allSatisfy({ $0.fidelity != nil }) {
                figures.append(try context.write(fidelityChart(steps: judged.map { Double($0.step) }, fidelities: judged.map { $0.fidelity! },
                                                               real: realFidelity), name: "label-fidelity"))
            }
        }
        metrics["steps"] = Double(loop.step)
        metrics["seconds"] = (seconds * 100).rounded() / 100
        metrics["steps_per_second"] = (Double(loop.step) / max(seconds, 1e-9) * 10).rounded() / 10
        if let last = loop.epochMeans.last {
            metrics["discriminator_loss"] = Double(last.discriminatorLoss)
            metrics["generator_loss"] = Double(last.generatorLoss)
            metrics["d_x"] = Double(last.realScore)
            metrics["d_g_z"] = Double(last.fakeScore)
            metrics["d_g_z_g_step"] = Double(last.generatorStepFakeScore)
            metrics["discriminator_accuracy"] = Double(last.realAccuracy + last.fakeAccuracy) / 2
        }
        if let saturated = firstSaturatedStep(loop.rows) { metrics["discriminator_saturated_step"] = Double(saturated) }
        if let modes { metrics.merge(modes.values.mapKeys { "final_" + $0 }) { $1 } }
        if let last = judged.last {
            for (key, value) in last.scores.values where key != "images" { metrics["final_\(key)"] = value }
            for (key, value) in last.fidelity?.values() ?? [:] { metrics["final_\(key)"] = value }
        }
        for (key, value) in realFidelity?.values(prefix: "real_label_fidelity") ?? [:] { metrics[key] = value }
        return StageOutcome(figures: figures, metrics: metrics, rows: loop.rows)
    }

    /// The classic DCGAN figure: each row walks from one noise vector to another in 10 steps, G's
    /// image at each (inference mode). Normal noise walks along the sphere (slerp), uniform noise
    /// in a straight line.
    static func latentWalk(_ run: ImageGAN, rows: Int, classNames: [String], random: inout RandomSource) -> ImageGridChart {
        let steps = 10
        let trainer = run.trainer
        let size = trainer.latentSize
        let ends = trainer.configuration.noise.sample(count: 2 * rows, size: size, using: &random)
        let spherical = trainer.configuration.noise == .normal
        var points: [Float] = []
        for row in 0..<rows {
            let (start, end) = (Array(ends.scalars[(2 * row) * size..<(2 * row + 1) * size]), Array(ends.scalars[(2 * row + 1) * size..<(2 * row + 2) * size]))
            points += interpolate(from: start, to: end, count: steps, spherical: spherical).flatMap { $0 }
        }
        var noise = Tensor(shape: [rows * steps, size], scalars: points)
        if run.classes > 0 {  // each row asks for one class all along: row r for class r mod classes
            noise = trainer.conditionedNoise(noise, labels: (0..<rows * steps).map { ($0 / steps) % run.classes })
        }
        return imageGrid(run.generated(noise), title: "Walks through the noise: each row goes from one z to another in \(steps) "
                        + (spherical ? "steps along the sphere (slerp)" : "equal steps") + (run.classes > 0 ? ", asking for one class" : ""),
                         columns: steps, rowLabels: run.classes > 0 ? (0..<rows).map { classNames[$0 % run.classes] } : [])
    }

    /// The first step from which D's accuracy, averaged over 100 steps, stays at 0.9 or more to
    /// the end of training: when the discriminator has won. Nil when it never does.
    static func firstSaturatedStep(_ rows: [MetricsRow], window: Int = 100, threshold: Float = 0.9) -> Int? {
        let rounds = rows.filter { $0.update == Networks.both.rawValue }
        guard rounds.count >= window else { return nil }
        let accuracy = rounds.map { ($0.realAccuracy + $0.fakeAccuracy) / 2 }
        var sum = accuracy[0..<window].reduce(0, +)
        var means = [sum / Float(window)]
        for i in window..<accuracy.count {
            sum += accuracy[i] - accuracy[i - window]
            means.append(sum / Float(window))
        }
        guard means.last! >= threshold else { return nil }
        let lastBelow = means.lastIndex { $0 < threshold }
        return rounds[(lastBelow.map { $0 + 1 } ?? 0) + window - 1].step
    }
}

/// G's two modes on the same noise: both sets of images, how far apart they are, their spread,
/// and what D makes of each (the images D trains on when fakes are made in inference mode, and the
/// ones G's own update is judged on).
struct ModeComparison {
    let inference: Tensor, training: Tensor
    let values: [String: Double]

    /// The grids' columns and row labels (a conditional GAN's grid has a row per class).
    let columns: Int, rowLabels: [String]

    init(_ run: ImageGAN, _ noise: Tensor, columns: Int, rowLabels: [String] = []) {
        (self.columns, self.rowLabels) = (columns, rowLabels)
        inference = run.generated(noise, mode: .inference)
        training = run.generated(noise, mode: .training)
        values = ["mode_gap": Double((inference - training).mapped { abs($0) }.mean()),
                  "fake_std_inference": Double(standardDeviation(inference)), "fake_std_training": Double(standardDeviation(training)),
                  "d_fakes_inference": run.meanScore(inference, noise: noise), "d_fakes_training": run.meanScore(training, noise: noise)]
    }

    /// Both grids side by side, with D's score and the spread of each.
    var chart: SmallMultiplesChart {
        func panel(_ images: Tensor, _ name: String) -> ImageGridChart {
            imageGrid(images, title: "\(name.prefix(1).uppercased() + name.dropFirst()) mode: D(G(z)) \(fixed(values["d_fakes_\(name)"]!, 2)), "
                      + "pixel s.d. \(fixed(values["fake_std_\(name)"]!, 2))", columns: columns, rowLabels: rowLabels)
        }
        return SmallMultiplesChart(title: "One generator, two modes: the same noise, mean |difference| \(fixed(values["mode_gap"]!, 2))",
                                   panels: [panel(inference, "inference"), panel(training, "training")], columns: 2,
                                   shareAxes: false, shareLegend: false)
    }
}

/// What every stage that trains a GAN on images reads: the data, the networks, the training
/// settings, the epochs, how batches are drawn, and the judge's cadence and set size.
let imageTrainingSettings = [
    dataSetting,
    SettingSpec("epochs", .integer(1...1_000_000), "100"),
    SettingSpec("epoch-steps", .integer(0...10_000_000), "0"),
    SettingSpec("batches", .choice(["shuffled", "with-replacement"]), "shuffled"),
    SettingSpec("judge-every", .integer(0...1_000_000), "0"),
    SettingSpec("set-size", .integer(10...10_000), "500"),
    SettingSpec("conditioning", .choice(["none", "labels"]), "none"),
] + modelSettings + trainingSettings

/// Problems of an image stage's settings that are each valid alone.
func checkImageTraining(_ settings: StageSettings) -> [String] {
    var problems = checkModels(settings) + checkTraining(settings)
    if JudgedSet(rawValue: settings.text("data")) == nil {
        problems.append("data: this stage trains on \(judgedSetNames), not \(settings.text("data"))")
    }
    if settings.integer("pack") > 1 { problems.append("pack: packing is for points; image discriminators read one image") }
    if settings.text("conditioning") == "labels", JudgedSet(rawValue: settings.text("data")) == nil {
        problems.append("conditioning: labels needs a labelled set (\(judgedSetNames)), not \(settings.text("data"))")
    }
    return problems
}

/// The sets the lab has a judge for, in words: "mnist, fashion-mnist or shapes".
let judgedSetNames: String = {
    let names = JudgedSet.allCases.map(\.rawValue)
    return names.dropLast().joined(separator: ", ") + " or " + names.last!
}()

/// The standard deviation of every element.
func standardDeviation(_ tensor: Tensor) -> Float {
    let mean = tensor.mean()
    return tensor.mapped { ($0 - mean) * ($0 - mean) }.mean().squareRoot()
}

extension Dictionary {
    func mapKeys<T: Hashable>(_ transform: (Key) -> T) -> [T: Value] {
        Dictionary<T, Value>(uniqueKeysWithValues: map { (transform($0.key), $0.value) })
    }
}
