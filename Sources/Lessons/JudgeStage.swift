import Charts
import Data
import Evaluation
import Foundation
import GAN
import Kernels

/// Lesson 7's lab: the judge scores sets of images whose quality everyone can see — real digits
/// it never trained on (the ceiling), the same blurred or with noise, pure noise, one class
/// repeated, half the classes — so a class learns what each number catches.
enum JudgeStage: StageKind {
    static let name = "judge"
    static let settings = [
        dataSetting,
        SettingSpec("set-size", .integer(10...10_000), "500"),
        SettingSpec("sets", .text, JudgedImages.allCases.map(\.rawValue).joined(separator: ", ")),
    ]

    static func crossCheck(_ settings: StageSettings) -> [String] {
        var problems: [String] = []
        if JudgedSet(rawValue: settings.text("data")) == nil {
            problems.append("data: the judge needs \(judgedSetNames), not \(settings.text("data"))")
        }
        problems += parseViews(settings.text("sets")).filter { JudgedImages(rawValue: $0) == nil }
            .map { "unknown set \"\($0)\" (sets are \(JudgedImages.allCases.map(\.rawValue).joined(separator: ", ")))" }
        return problems
    }

    static func run(_ context: StageContext) throws -> StageOutcome {
        let settings = context.settings, console = context.console
        let set = JudgedSet(rawValue: settings.text("data"))!
        let (data, judge) = try loadJudge(set) { console.progress($0, final: true) }
        let accuracy = judge.heldOutAccuracy
        console.line("  the judge: \(judge.recipe.architecture)")
        console.line("  \(judge.trainedNow ? "trained now in \(fixed(judge.trainingSeconds, 0)) s" : "read from \(judge.path)"); "
            + "\(fixed(100 * accuracy, 1)) % right on \(grouped(data.heldOut.count)) images it never trained on; "
            + "features: its 128 penultimate ReLU outputs")
        let size = min(context.quick ? min(settings.integer("set-size"), 100) : settings.integer("set-size"), data.heldOut.count)
        let scorer = Scorer(judge: judge, data: data)
        var random = context.random
        let chosen = parseViews(settings.text("sets")).compactMap(JudgedImages.init(rawValue:))
        let kinds = chosen.contains(.real) ? chosen : [.real] + chosen
        var rows: [(kind: JudgedImages, images: Tensor, judgement: Judgement, scores: ImageScores)] = []
        for kind in kinds {
            let images = kind.images(from: data.heldOut, count: size, using: &random)
            let judgement = judge.judge(images)
            rows.append((kind, images, judgement, scorer.score(judgement)))
        }
        console.line("  \(grouped(size)) images a set, each against \(grouped(scorer.referenceCount)) of the judge's training images")
        console.line()
        console.line(table(rows.map { ($0.kind.label, $0.scores) }))
        let real = rows[0].scores

        // Seed 000's two formulas beside the correct ones, on the same images.
        console.line()
        console.line("  seed 000's formulas on the same sets:")
        var metrics: [String: Double] = ["judge_accuracy": accuracy, "set_size": Double(size)]
        for row in rows {
            let buggyScore = seed000InceptionScore(probabilities: row.judgement.probabilities)
            let buggyDistance = seed000FrechetDistance(FeatureStatistics(features: row.judgement.features), scorer.referenceFeatureStatistics)
            console.line("    " + row.kind.label.padding(toLength: 22, withPad: " ", startingAt: 0)
                + "IS \(fixed(row.scores.inceptionScore.mean, 2)) → as written \(fixed(buggyScore, 2))"
                + " · FID \(fixed(row.scores.frechetFeatures, 1)) → as written \(fixed(buggyDistance, 1))")
            let key = row.kind.rawValue.replacingOccurrences(of: "-", with: "_")
            for (name, value) in row.scores.values where name != "images" { metrics["\(key)_\(name)"] = value }
            metrics["\(key)_seed000_inception_score"] = buggyScore
            metrics["\(key)_seed000_fid_features"] = buggyDistance
        }

        var figures: [String] = []
        let samples = rows.flatMap { row in gridImages(row.images.sliced(alongAxis: 0, 0..<10)) }
        figures.append(try context.write(ImageGridChart(title: "The sets the judge scores (\(grouped(size)) images each; 10 shown)",
                                                        images: samples, columns: 10, rowLabels: rows.map(\.kind.label)), name: "sets"))
        let others = rows.dropFirst()
        let panels: [any Chart] = scoreFigures.map { figure in
            BarChart(title: figure.title, categories: others.map(\.kind.shortLabel), y: Axis(figure.axis, domain: figure.domain),
                     series: [BarSeries(name: "", values: others.map { figure.value($0.scores) }, color: Theme.fake)],
                     idealValue: figure.value(real), idealLabel: "ceiling: real images it never trained on")
        }
        figures.append(try context.write(SmallMultiplesChart(title: "Each score across the sets; dashed: the ceiling", panels: panels,
                                                             columns: 3, shareAxes: false), name: "scores"))
        figures.append(try context.write(ScatterChart(
            title: "Precision (are the images like real ones?) against recall (are the real ones all covered?)",
            x: Axis("recall", domain: 0...1), y: Axis("precision", domain: 0...1),
            series: rows.enumerated().map { index, row in
                ScatterSeries(name: row.kind.shortLabel, xs: [row.scores.manifold.recall], ys: [row.scores.manifold.precision],
                              color: Theme.palette[index % Theme.palette.count], pointSize: 12, alpha: 1)
            }, equalAspect: true), name: "precision-recall"))
        figures.append(try context.write(SmallMultiplesChart(
            title: "The judge's predicted classes per set; dashed: an even share",
            panels: rows.map { row in
                BarChart(title: row.kind.label, categories: set.classNames.indices.map(String.init), y: Axis("images"),
                         series: [BarSeries(name: "", values: row.scores.classes.counts.map(Double.init), color: Theme.real)],
                         idealValue: Double(size) / 10, idealLabel: "even share")
            }, columns: 3), name: "classes"))
        return StageOutcome(figures: figures, metrics: metrics)
    }

    /// The scores the figure shows, each with its axis.
    static let scoreFigures: [(title: String, axis: String, domain: ClosedRange<Double>?, value: (ImageScores) -> Double)] = [
        ("Inception-style score (higher is better)", "score", 0...10, { $0.inceptionScore.mean }),
        ("Fréchet distance, features (lower is better)", "distance", nil, { $0.frechetFeatures }),
        ("Precision (higher is better)", "share", 0...1, { $0.manifold.precision }),
        ("Recall (higher is better)", "share", 0...1, { $0.manifold.recall }),
        ("Coverage (higher is better)", "share", 0...1, { $0.manifold.coverage }),
        ("Classes holding a fair share (10 is best)", "classes", 0...10, { Double($0.classes.classesWithFairShare) }),
    ]

    /// The scores as a table, one row a set.
    static func table(_ rows: [(String, ImageScores)]) -> String {
        let header = "    " + "set".padding(toLength: 22, withPad: " ", startingAt: 0)
            + ["IS", "FID feat", "FID logit", "precision", "recall", "density", "coverage", "classes", "KL"].map { rightAligned($0, 10) }.joined()
        return ([header] + rows.map { name, scores in
            "    " + name.padding(toLength: 22, withPad: " ", startingAt: 0)
                + [fixed(scores.inceptionScore.mean, 2), fixed(scores.frechetFeatures, 1), fixed(scores.frechetLogits, 1),
                   fixed(scores.manifold.precision, 3), fixed(scores.manifold.recall, 3), fixed(scores.manifold.density, 3),
                   fixed(scores.manifold.coverage, 3), String(scores.classes.classesWithFairShare), fixed(scores.classes.klFromUniform, 3)]
                    .map { rightAligned($0, 10) }.joined()
        }).joined(separator: "\n")
    }
}

/// The sets lesson 7 scores, each made from real images the judge never trained on.
enum JudgedImages: String, CaseIterable {
    case real, blurred, noisy, noise, oneClass = "one-class", halfTheClasses = "half-the-classes"

    var label: String {
        switch self {
        case .real: return "real (the ceiling)"
        case .blurred: return "real, blurred"
        case .noisy: return "real + noise σ 0.3"
        case .noise: return "uniform noise"
        case .oneClass: return "one class repeated"
        case .halfTheClasses: return "half the classes"
        }
    }

    var shortLabel: String {
        switch self {
        case .real: return "real"
        case .blurred: return "blurred"
        case .noisy: return "noisy"
        case .noise: return "noise"
        case .oneClass: return "one class"
        case .halfTheClasses: return "half"
        }
    }

    /// `count` images of this kind from `real` (held-out images with labels).
    func images(from real: ImageSet, count: Int, using random: inout RandomSource) -> Tensor {
        let labels = real.labels ?? Array(repeating: 0, count: real.count)
        let first = real.images.sliced(alongAxis: 0, 0..<count)
        switch self {
        case .real: return first
        case .blurred: return boxBlurred(boxBlurred(first))
        case .noisy: return (first + Tensor.normal(shape: first.shape, std: 0.3, using: &random)).clamped(low: -1, high: 1)
        case .noise: return .uniform(shape: first.shape, low: -1, high: 1, using: &random)
        case .oneClass:
            let ones = labels.indices.filter { labels[$0] == 1 }
            return real.subset((0..<count).map { ones[$0 % ones.count] }).images
        case .halfTheClasses:
            let low = labels.indices.filter { labels[$0] < 5 }
            return real.subset((0..<count).map { low[$0 % low.count] }).images
        }
    }
}

/// Each pixel the mean of its 3×3 neighbourhood (edges: the pixels that exist), for [n, c, h, w].
func boxBlurred(_ images: Tensor) -> Tensor {
    let (h, w) = (images.shape[2], images.shape[3])
    var result = images
    images.withUnsafeBufferPointer { source in
        result.withUnsafeMutableBufferPointer { target in
            for plane in 0..<(images.count / (h * w)) {
                let base = plane * h * w
                for y in 0..<h {
                    for x in 0..<w {
                        var sum: Float = 0, count: Float = 0
                        for dy in -1...1 where (0..<h).contains(y + dy) {
                            for dx in -1...1 where (0..<w).contains(x + dx) {
                                sum += source[base + (y + dy) * w + x + dx]
                                count += 1
                            }
                        }
                        target[base + y * w + x] = sum / count
                    }
                }
            }
        }
    }
    return result
}
