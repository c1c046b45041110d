import Data
import Foundation
import Kernels

/// What the judge's numbers say of one set of images, against the same reference images.
public struct ImageScores {
    /// Images scored.
    public let count: Int
    /// exp(E_x KL(p(y|x) ‖ p(y))), 10 splits: mean and standard deviation.
    public let inceptionScore: (mean: Double, standardDeviation: Double)
    /// Fréchet distance to the reference in the judge's penultimate features (128-D).
    public let frechetFeatures: Double
    /// The same in the judge's logits (10-D), TF-GAN's `mnist_frechet_distance`.
    public let frechetLogits: Double
    /// Precision, recall, density and coverage against the reference, in the judge's features.
    public let manifold: ManifoldMetrics
    /// The histogram of the judge's predicted classes.
    public let classes: ClassCoverage
    /// The share of images the judge puts in one class with probability at least 0.9.
    public let confidentShare: Double

    /// Every number by a key, for `--json`, summary.json and metrics.csv.
    public var values: [String: Double] {
        ["images": Double(count), "inception_score": inceptionScore.mean, "inception_score_sd": inceptionScore.standardDeviation,
         "fid_features": frechetFeatures, "fid_logits": frechetLogits, "precision": manifold.precision, "recall": manifold.recall,
         "density": manifold.density, "coverage": manifold.coverage, "classes_with_fair_share": Double(classes.classesWithFairShare),
         "class_kl": classes.klFromUniform, "confident_share": confidentShare]
    }
}

/// Scores kept with a run's history (a training checkpoint stores those of its snapshots).
extension ImageScores: Codable {
    private enum CodingKeys: String, CodingKey {
        case count, inceptionScore, inceptionScoreDeviation, frechetFeatures, frechetLogits, manifold, classes, confidentShare
    }

    public init(from decoder: Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        self.init(count: try values.decode(Int.self, forKey: .count),
                  inceptionScore: (try values.decode(Double.self, forKey: .inceptionScore),
                                   try values.decode(Double.self, forKey: .inceptionScoreDeviation)),
                  frechetFeatures: try values.decode(Double.self, forKey: .frechetFeatures),
                  frechetLogits: try values.decode(Double.self, forKey: .frechetLogits),
                  manifold: try values.decode(ManifoldMetrics.self, forKey: .manifold),
                  classes: try values.decode(ClassCoverage.self, forKey: .classes),
                  confidentShare: try values.decode(Double.self, forKey: .confidentShare))
    }

    public func encode(to encoder: Encoder) throws {
        var values = encoder.container(keyedBy: CodingKeys.self)
        try values.encode(count, forKey: .count)
        try values.encode(inceptionScore.mean, forKey: .inceptionScore)
        try values.encode(inceptionScore.standardDeviation, forKey: .inceptionScoreDeviation)
        try values.encode(frechetFeatures, forKey: .frechetFeatures)
        try values.encode(frechetLogits, forKey: .frechetLogits)
        try values.encode(manifold, forKey: .manifold)
        try values.encode(classes, forKey: .classes)
        try values.encode(confidentShare, forKey: .confidentShare)
    }
}

/// Scores images with a judge against real reference images, and scores real images the judge
/// never trained on the same way: the ceiling every score is printed beside.
public final class Scorer {
    public let judge: Judge
    /// The real images every set is compared with (the judge's training images, up to `referenceCount`).
    public let referenceCount: Int
    private let reference: Judgement
    /// The reference images' statistics in the judge's features and in its logits.
    public let referenceFeatureStatistics: FeatureStatistics, referenceLogitStatistics: FeatureStatistics
    private let heldOut: ImageSet

    public init(judge: Judge, data: JudgeData, referenceCount: Int = 5_000) {
        self.judge = judge
        var random = RandomSource(seed: 0x7265_6665)
        var order = Array(0..<data.training.count)
        random.shuffle(&order)
        let chosen = data.training.subset(Array(order.prefix(referenceCount)).sorted())
        self.referenceCount = chosen.count
        reference = judge.judge(chosen.images)
        referenceFeatureStatistics = FeatureStatistics(features: reference.features)
        referenceLogitStatistics = FeatureStatistics(features: reference.logits)
        heldOut = data.heldOut
    }

    /// The scores of images [n, 1, 28, 28] in [-1, 1].
    public func score(_ images: Tensor) -> ImageScores { score(judge.judge(images)) }

    /// The scores of images the judge has already judged.
    public func score(_ judgement: Judgement) -> ImageScores {
        let maxima = judgement.probabilities.maximum(alongAxes: [1]).scalars
        return ImageScores(
            count: judgement.logits.shape[0], inceptionScore: inceptionScore(probabilities: judgement.probabilities),
            frechetFeatures: frechetDistance(FeatureStatistics(features: judgement.features), referenceFeatureStatistics),
            frechetLogits: frechetDistance(FeatureStatistics(features: judgement.logits), referenceLogitStatistics),
            manifold: manifoldMetrics(real: reference.features, fake: judgement.features),
            classes: ClassCoverage(probabilities: judgement.probabilities),
            confidentShare: Double(maxima.filter { $0 >= 0.9 }.count) / Double(max(maxima.count, 1)))
    }

    /// The ceiling: up to `count` real images the judge never trained on, scored as any set is
    /// (scores depend on how many images are compared, so compare sets of the same size).
    public func ceiling(count: Int) -> ImageScores {
        score(heldOut.images.sliced(alongAxis: 0, 0..<min(count, heldOut.count)))
    }

    /// Held-out images available for a ceiling.
    public var heldOutCount: Int { heldOut.count }
}
