import Charts
import Data
import Evaluation
import Foundation
import GAN
import Kernels

/// Several variants of one image GAN — the stage's settings, each variant changing a few — trained
/// at equal budgets on the same seeds and judged at the end: every score as mean ± standard error
/// over seeds beside the real-data ceiling, how often each variant beats the first (the baseline)
/// seed for seed, a chart of the same, and the first seed's grids side by side. With `judge-every`,
/// each run is also judged over training, and a figure sets D's own number — a critic's estimate
/// of the Wasserstein distance, or D's loss — beside the judge's Fréchet distance: does the number
/// the game reports follow the quality of the samples?
enum CompareImagesStage: StageKind {
    static let name = "compare-images"
    static let settings = imageTrainingSettings + [
        SettingSpec("variants", .text, nil),
        SettingSpec("seeds", .integer(1...100), "5"),
    ]

    /// One variant: a name and the settings it changes (none for the baseline as written).
    struct Variant {
        let name: String
        let changes: [(key: String, value: String)]

        var label: String { changes.isEmpty ? "\(name) (the stage's settings)" : "\(name) (" + changes.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")" }

        /// The stage's settings with this variant's changes.
        func applied(to settings: StageSettings) -> StageSettings {
            var values = settings.values
            for change in changes { values[change.key] = change.value }
            return StageSettings(values: values, kind: settings.kind)
        }
    }

    /// Settings a variant may not change: what the comparison itself is made of.
    static let fixedSettings: Set<String> = ["data", "epochs", "epoch-steps", "batch-size", "judge-every", "set-size", "variants", "seeds"]

    /// The text split at spaces outside double quotes (a network's value is quoted: its layers
    /// hold spaces), and whether a quote was left open.
    static func quotedWords(_ text: String) -> (words: [String], unclosed: Bool) {
        var words: [String] = [], word = "", quoted = false
        for character in text {
            if character == "\"" { quoted.toggle() }
            if character == " " && !quoted {
                if !word.isEmpty { words.append(word) }
                word = ""
            } else {
                word.append(character)
            }
        }
        if !word.isEmpty { words.append(word) }
        return (words, quoted)
    }

    /// `name: key=value key=value; name: …` (a name alone changes nothing; a value with spaces,
    /// such as a network, in double quotes), or the problems with it.
    static func variants(_ text: String) -> (variants: [Variant], problems: [String]) {
        var variants: [Variant] = [], problems: [String] = []
        for part in text.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
            let pieces = part.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            let name = pieces[0]
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
                problems.append("variants: \"\(part)\" should start with a name of letters, digits and dashes, then a colon and key=value changes")
                continue
            }
            if variants.contains(where: { $0.name == name }) { problems.append("variants: \(name) is named twice") }
            var changes: [(String, String)] = []
            let (words, unclosed) = quotedWords(pieces.count > 1 ? pieces[1] : "")
            if unclosed { problems.append("variants: \(name): a quoted value is not closed (write key=\"a value with spaces\")") }
            for change in words {
                guard let equals = change.firstIndex(of: "=") else {
                    problems.append("variants: \(name): expected key=value, got \"\(change)\"")
                    continue
                }
                let key = String(change[..<equals])
                var value = String(change[change.index(after: equals)...])
                if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
                guard let spec = settings.first(where: { $0.name == key }), !fixedSettings.contains(key) else {
                    problems.append("variants: \(name): \(key) is not a setting a variant can change (the networks and the training settings are)")
                    continue
                }
                if let problem = spec.kind.problem(with: value) { problems.append("variants: \(name): \(key): \(problem)") }
                changes.append((key, value))
            }
            variants.append(Variant(name: name, changes: changes))
        }
        if variants.isEmpty, problems.isEmpty { problems.append("variants: name at least one variant, e.g. \"as-written; tuned: learning-rate=2e-4 beta1=0.5\"") }
        return (variants, problems)
    }

    static func crossCheck(_ settings: StageSettings) -> [String] {
        let (list, problems) = variants(settings.text("variants"))
        guard problems.isEmpty else { return problems }
        return list.flatMap { variant in checkImageTraining(variant.applied(to: settings)).map { "variants: \(variant.name): \($0)" } }
    }

    /// What a run's D reported over one epoch beside what the judge said at its end.
    struct TrajectoryPoint {
        let step: Double
        /// A critic's estimate of the Wasserstein distance, mean D(x) − mean D(G(z)); D's loss otherwise.
        let discriminatorNumber: Double
        let frechetDistance: Double
    }

    /// One variant over the seeds.
    struct Cell {
        var scores: [ImageScores] = []
        /// A conditional variant's label fidelity at the end (empty for the others).
        var fidelity: [Double] = []
        /// Each seed's points over training (with `judge-every`).
        var trajectories: [[TrajectoryPoint]] = []
        /// Whether D is a critic (its number is then the Wasserstein estimate).
        var isCritic = false
        /// D's accuracy and D(G(z)) on the D step's fakes, means over each run's last epoch.
        var discriminatorAccuracy: [Double] = [], fakeScore: [Double] = []
        var firstGrid: Tensor?
        var seconds: [Double] = []
        /// Training time per step (judging excluded), in milliseconds.
        var millisecondsPerStep: [Double] = []

        /// Spearman's ρ between D's number and the Fréchet distance over each seed's training.
        var rankCorrelations: [Double] { trajectories.filter { $0.count >= 3 }.map { rankCorrelation($0.map(\.discriminatorNumber), $0.map(\.frechetDistance)) } }
    }

    /// The numbers the table and the chart show, with how each reads and how many digits it takes.
    static let columns: [(key: String, title: String, digits: Int, pick: (ImageScores) -> Double)] = [
        ("fid_features", "FID", 1, \.frechetFeatures),
        ("precision", "precision", 2, \.manifold.precision),
        ("recall", "recall", 2, \.manifold.recall),
        ("coverage", "coverage", 2, \.manifold.coverage),
        ("classes_with_fair_share", "classes", 1, { Double($0.classes.classesWithFairShare) }),
        ("confident_share", "confident", 2, \.confidentShare),
    ]

    static func run(_ context: StageContext) throws -> StageOutcome {
        let settings = context.settings, console = context.console
        let set = JudgedSet(rawValue: settings.text("data"))!
        let images = try ImageGAN.load(set)
        let list = variants(settings.text("variants")).variants
        let seeds = context.quick ? 1 : settings.integer("seeds")
        var random = context.random
        let seedValues = (0..<seeds).map { _ in random.nextBits() }  // the same seeds, so the same first weights, for every variant
        let plans = list.map { ($0, $0.applied(to: settings)) }
        // Every run draws its judged and pictured noise from this one stream: the same z's for
        // every variant whose noise distribution is the same.
        let noiseSeed = random.nextBits()
        let judging = try ImageJudging(set, setSize: settings.integer("set-size"), console: console)
        let length = ImageGAN.length(settings, imageCount: images.count, quick: context.quick)
        let judgeEvery = context.quick ? min(settings.integer("judge-every"), 1) : settings.integer("judge-every")
        console.line("  \(list.count) variants × \(seeds) seeds, each \(grouped(length.epochs * length.stepsPerEpoch)) steps; "
            + "judged on \(judging.count) images from fixed noise")
        for variant in list { console.line("    \(variant.label)") }

        var cells = [Cell](repeating: Cell(), count: list.count)
        let start = Date()
        for seed in 0..<seeds {
            for (index, (variant, variantSettings)) in plans.enumerated() {
                var seedRandom = RandomSource(seed: seedValues[seed])
                let run = try ImageGAN(variantSettings, images: images, stage: context.plan.number, quick: context.quick,
                                       recordsRows: false, random: &seedRandom)
                var noiseRandom = RandomSource(seed: noiseSeed)
                let judgeNoise = run.judgeNoise(count: judging.count, using: &noiseRandom)
                var trajectory: [TrajectoryPoint] = []
                var judgingSeconds = 0.0
                // The last epoch's judgement is the run's final one too (one pass of the judge for both).
                var finalJudgement: (scores: ImageScores, fidelity: LabelFidelity?)?
                let runStart = Date()
                do {
                    try run.loop.runEpochs(run.epochs, steps: run.stepsPerEpoch, console: console, afterEpoch: { epoch in
                        guard judgeEvery > 0, epoch % judgeEvery == 0 || epoch == run.epochs else { return }
                        let judgeStart = Date()
                        let means = run.loop.epochMeans[epoch - 1]
                        let number = run.trainer.configuration.loss.isCritic ? means.realScore - means.fakeScore : means.discriminatorLoss
                        let images = run.generated(judgeNoise)
                        let distance: Double
                        if epoch == run.epochs {
                            let judgement = judging.score(images, asked: judgeNoise, trainer: run.trainer)
                            (finalJudgement, distance) = (judgement, judgement.scores.frechetFeatures)
                        } else {
                            distance = judging.scorer.score(images).frechetFeatures
                        }
                        trajectory.append(TrajectoryPoint(step: Double(epoch * run.stepsPerEpoch), discriminatorNumber: Double(number),
                                                          frechetDistance: distance))
                        judgingSeconds += Date().timeIntervalSince(judgeStart)
                    }, interrupted: { _, _ in StageOutcome() })
                } catch is TrainingInterrupted {
                    console.progress("interrupted: the comparison needs every run, so no table is written", final: true)
                    throw TrainingInterrupted(outcome: StageOutcome())
                }
                let trainingSeconds = Date().timeIntervalSince(runStart) - judgingSeconds
                let (scores, fidelity) = finalJudgement ?? judging.score(run.generated(judgeNoise), asked: judgeNoise, trainer: run.trainer)
                cells[index].scores.append(scores)
                if let fidelity { cells[index].fidelity.append(fidelity.overall) }
                cells[index].trajectories.append(trajectory)
                cells[index].isCritic = run.trainer.configuration.loss.isCritic
                cells[index].millisecondsPerStep.append(trainingSeconds * 1000 / Double(max(run.epochs * run.stepsPerEpoch, 1)))
                let last = run.loop.epochMeans.last ?? StepMetrics()
                cells[index].discriminatorAccuracy.append(Double(last.realAccuracy + last.fakeAccuracy) / 2)
                cells[index].fakeScore.append(Double(last.fakeScore))
                cells[index].seconds.append(Date().timeIntervalSince(runStart))
                if seed == 0 { cells[index].firstGrid = run.generated(run.gridNoise(columns: 8, using: &noiseRandom)) }
                console.line("    seed \(seed + 1)/\(seeds) · \(variant.name): " + judging.line(scores)
                    + (fidelity.map { " · label fidelity \(fixed($0.overall, 2))" } ?? "")
                    + " · D accuracy \(fixed(cells[index].discriminatorAccuracy.last!, 2)) · D(G(z)) \(fixed(cells[index].fakeScore.last!, 2))"
                    + " · \(fixed(cells[index].seconds.last!, 1)) s")
            }
        }
        let seconds = Date().timeIntervalSince(start)
        printTable(console: console, variants: list, cells: cells, ceiling: judging.ceiling, seeds: seeds)
        console.line("  \(list.count * seeds) runs in \(fixed(seconds, 1)) s")

        var metrics: [String: Double] = ["seeds": Double(seeds), "seconds": (seconds * 10).rounded() / 10]
        for (variant, cell) in zip(list, cells) {
            for column in columns {
                let values = cell.scores.map(column.pick)
                metrics["compare_\(variant.name)_\(column.key)_mean"] = mean(values)
                metrics["compare_\(variant.name)_\(column.key)_se"] = standardError(values)
            }
            metrics["compare_\(variant.name)_beats_baseline"] = Double(seedsBeating(cell, cells[0]))
            metrics["compare_\(variant.name)_discriminator_accuracy_mean"] = mean(cell.discriminatorAccuracy)
            metrics["compare_\(variant.name)_d_g_z_mean"] = mean(cell.fakeScore)
            metrics["compare_\(variant.name)_ms_per_step_mean"] = (mean(cell.millisecondsPerStep) * 10).rounded() / 10
            if !cell.fidelity.isEmpty {
                metrics["compare_\(variant.name)_label_fidelity_mean"] = mean(cell.fidelity)
                metrics["compare_\(variant.name)_label_fidelity_se"] = standardError(cell.fidelity)
            }
            let correlations = cell.rankCorrelations
            if !correlations.isEmpty {
                metrics["compare_\(variant.name)_d_fid_rank_correlation_mean"] = mean(correlations)
                metrics["compare_\(variant.name)_d_fid_rank_correlation_se"] = standardError(correlations)
            }
        }
        for column in columns { metrics["ceiling_\(column.key)"] = column.pick(judging.ceiling) }

        var figures = [try context.write(comparisonChart(variants: list, cells: cells, ceiling: judging.ceiling, seeds: seeds), name: "comparison")]
        if judgeEvery > 0 {
            figures.append(try context.write(trajectoryChart(variants: list, cells: cells), name: "d-and-fid"))
        }
        let grids: [any Chart] = zip(list, cells).compactMap { variant, cell in
            cell.firstGrid.map { imageGrid($0, title: "\(variant.name): FID \(fixed(cell.scores[0].frechetFeatures, 1))", columns: 8) }
        }
        figures.append(try context.write(SmallMultiplesChart(title: "The same 64 noise vectors after each variant's training (seed 1)",
                                                             panels: grids, columns: grids.count <= 3 ? grids.count : (grids.count + 1) / 2,
                                                             shareAxes: false, shareLegend: false),
                                         name: "grids"))
        return StageOutcome(figures: figures, metrics: metrics)
    }

    /// Seeds on which `cell` has both a lower Fréchet distance and a higher coverage than `baseline`.
    static func seedsBeating(_ cell: Cell, _ baseline: Cell) -> Int {
        zip(cell.scores, baseline.scores).filter {
            $0.frechetFeatures < $1.frechetFeatures && $0.manifold.coverage > $1.manifold.coverage
        }.count
    }

    static func printTable(console: Console, variants: [Variant], cells: [Cell], ceiling: ImageScores, seeds: Int) {
        let nameWidth = max(24, variants.map(\.name.count).max()! + 2)
        func cell(_ text: String) -> String { rightAligned(text, 13) }
        let conditional = cells.contains { !$0.fidelity.isEmpty }, tracked = cells.contains { !$0.rankCorrelations.isEmpty }
        console.line("")
        console.line("  " + "".padding(toLength: nameWidth, withPad: " ", startingAt: 0) + columns.map { cell($0.title) }.joined()
            + (conditional ? cell("label fid.") : "") + cell("D accuracy") + cell("D(G(z))") + (tracked ? cell("ρ(D, FID)") : "")
            + cell("ms a step") + cell("beats 1st"))
        for (variant, data) in zip(variants, cells) {
            console.line("  " + variant.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
                + columns.map { column in cell(meanAndError(data.scores.map(column.pick), column.digits)) }.joined()
                + (conditional ? cell(data.fidelity.isEmpty ? "–" : meanAndError(data.fidelity, 2)) : "")
                + cell(meanAndError(data.discriminatorAccuracy, 2)) + cell(meanAndError(data.fakeScore, 2))
                + (tracked ? cell(meanAndError(data.rankCorrelations, 2)) : "")
                + cell(fixed(mean(data.millisecondsPerStep), 0)) + cell("\(seedsBeating(data, cells[0])) of \(seeds)"))
        }
        console.line("  " + "real images (ceiling)".padding(toLength: nameWidth, withPad: " ", startingAt: 0)
            + columns.map { cell(fixed($0.pick(ceiling), $0.digits)) }.joined())
        console.line("  (mean ± standard error over \(seeds) seed\(seeds == 1 ? "" : "s"); D's numbers: means over the last epoch; \"beats\": seeds with a lower FID and a higher coverage than \(variants[0].name))")
        if tracked {
            console.line("  (ρ(D, FID): Spearman's rank correlation over training between the Fréchet distance and D's own number — a critic's")
            console.line("   Wasserstein estimate, mean D(x) − mean D(G(z)), or D's loss; +1: the number falls exactly as the samples improve)")
        }
    }

    /// Per variant (seed 1): D's own number over training — a critic's Wasserstein estimate, or D's
    /// loss — and the judge's Fréchet distance on the right axis, with ρ over every seed in the title.
    static func trajectoryChart(variants: [Variant], cells: [Cell]) -> SmallMultiplesChart {
        let lastStep = cells.compactMap { $0.trajectories.first?.last?.step }.max() ?? 1
        let distances = cells.flatMap { $0.trajectories.flatMap { $0.map(\.frechetDistance) } }.filter(\.isFinite)
        // One Fréchet axis for every panel, from 0, so that panels compare at a glance.
        let fidAxis = Axis("Fréchet distance", domain: 0...max((distances.max() ?? 1) * 1.05, 1))
        let panels: [any Chart] = zip(variants, cells).map { variant, cell in
            let points = cell.trajectories.first ?? []
            let xs = points.map(\.step)
            let numberName = cell.isCritic ? "critic's estimate, D(x) − D(G(z))" : "D's loss"
            let correlations = cell.rankCorrelations
            let rho = correlations.isEmpty ? "" : " · ρ = \(meanAndError(correlations, 2))"
            return LineChart(title: "\(variant.name)\(rho)", x: Axis("step", domain: 0...lastStep), y: Axis(numberName),
                             secondaryY: fidAxis,
                             series: [LineSeries(name: cell.isCritic ? "critic's estimate" : "D's loss", xs: xs,
                                                 ys: points.map(\.discriminatorNumber), color: Theme.real),
                                      LineSeries(name: "FID", xs: xs, ys: points.map(\.frechetDistance), color: Theme.fake,
                                                 onSecondaryAxis: true)])
        }
        return SmallMultiplesChart(title: "Does D's own number follow sample quality? D's number (left) and the judge's Fréchet distance (right) over training, seed 1",
                                   panels: panels, columns: min(3, panels.count), shareAxes: false, shareLegend: false)
    }

    /// FID, and precision, recall and coverage, per variant, mean ± s.e., beside the real images'
    /// values (the table has every column).
    static func comparisonChart(variants: [Variant], cells: [Cell], ceiling: ImageScores, seeds: Int) -> SmallMultiplesChart {
        let names = variants.map(\.name)
        let over = seeds > 1 ? "mean ± s.e. over \(seeds) seeds" : "1 seed"
        func series(_ name: String, _ pick: (ImageScores) -> Double, color: Color) -> BarSeries {
            BarSeries(name: name, values: cells.map { mean($0.scores.map(pick)) }, color: color,
                      errors: seeds > 1 ? cells.map { standardError($0.scores.map(pick)) } : nil)
        }
        let panels: [any Chart] = [
            BarChart(title: "Fréchet distance, lower is better (\(over))", categories: names,
                     y: Axis("Fréchet distance"), series: [series("FID", \.frechetFeatures, color: Theme.fake)],
                     idealValue: ceiling.frechetFeatures, idealLabel: "real images (\(fixed(ceiling.frechetFeatures, 1)))"),
            BarChart(title: "Precision, recall, coverage (real images: \(fixed(ceiling.manifold.precision, 2)), "
                     + "\(fixed(ceiling.manifold.recall, 2)), \(fixed(ceiling.manifold.coverage, 2)))", categories: names,
                     y: Axis("share", domain: 0...1),
                     series: [series("precision", \.manifold.precision, color: Theme.palette[0]),
                              series("recall", \.manifold.recall, color: Theme.palette[1]),
                              series("coverage", \.manifold.coverage, color: Theme.palette[2])]),
        ]
        return SmallMultiplesChart(title: "Each variant judged at the end of equal training", panels: panels, columns: 1,
                                   shareAxes: false, shareLegend: false)
    }
}
