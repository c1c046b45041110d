// The numbers read from a classifier's class probabilities p(y|x), rows of an [n, C] tensor:
// the Inception-style score, seed 000's version of it, and the histogram of predicted classes.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Kernels

/// exp(E_x KL(p(y|x) ‖ p(y))) over `splits` equal splits of the rows of probabilities [n, C]: mean
/// and (population) standard deviation across splits, as the IS papers report it.
///
/// Split i holds rows n·i/splits ..< n·(i+1)/splits (as OpenAI's and TF-GAN's code cut them); p(y)
/// is the mean of p(y|x) over the split. Sums are in Double, and 0·log 0 counts as 0, so one-hot
/// predictions need no epsilon. The score runs from 1 (every x gets the same p(y|x)) to C (every
/// x certain of its class, the classes equally often).
public func inceptionScore(probabilities: Tensor, splits: Int = 10) -> (mean: Double, standardDeviation: Double) {
    let (n, classes) = probabilityShape(probabilities)
    precondition(splits >= 1 && splits <= n, "\(splits) splits of \(n) rows")
    let scores = (0..<splits).map { split -> Double in
        let rows = n * split / splits..<n * (split + 1) / splits
        let marginal = classMeans(probabilities, rows: rows, classes: classes)
        var klSum: Double = 0
        probabilities.withUnsafeBufferPointer { p in
            for row in rows {
                for y in 0..<classes {
                    let pyx = Double(p[row * classes + y])
                    if pyx > 0 { klSum += pyx * (log(pyx) - log(marginal[y])) }
                }
            }
        }
        return exp(klSum / Double(rows.count))
    }
    let mean = scores.reduce(0, +) / Double(splits)
    let variance = scores.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(splits)
    return (mean, variance.squareRoot())
}

/// Seed 000's Inception Score, for the lesson that shows it beside `inceptionScore`: one split of
/// all n rows, and the class VARIANCE where the marginal p(y) belongs:
/// exp((1/n) Σₓ Σ_y p(y|x)·(log(p(y|x) + ε) − log(v_y + ε))), with v_y = (1/n) Σₓ (p(y|x) − p̄_y)²
/// the population variance of column y (`tf.math.reduce_variance`) and ε = 1e-16. It grows without
/// bound as the predictions agree (v_y → 0): identical predictions, which deserve 1, score
/// exp(−H(p) − log ε) ≈ 10¹⁶ for one-hot ones.
public func seed000InceptionScore(probabilities: Tensor) -> Double {
    let (n, classes) = probabilityShape(probabilities)
    let epsilon = 1e-16
    let means = classMeans(probabilities, rows: 0..<n, classes: classes)
    var variances = [Double](repeating: 0, count: classes)
    var sum: Double = 0
    probabilities.withUnsafeBufferPointer { p in
        for row in 0..<n {
            for y in 0..<classes {
                let deviation = Double(p[row * classes + y]) - means[y]
                variances[y] += deviation * deviation
            }
        }
        for y in 0..<classes { variances[y] /= Double(n) }
        for row in 0..<n {
            for y in 0..<classes {
                let pyx = Double(p[row * classes + y])
                sum += pyx * (log(pyx + epsilon) - log(variances[y] + epsilon))
            }
        }
    }
    return exp(sum / Double(n))
}

/// The histogram of predicted classes (the most probable class of each row of probabilities
/// [n, C]; the lowest index on a tie): mode collapse on images, counted as lesson 4 counts modes.
public struct ClassCoverage: Codable {
    /// Rows predicted as each class; C elements summing to n.
    public let counts: [Int]
    /// Classes holding a fair share: at least a quarter of the n/C rows a uniform spread gives
    /// each (count·4·C ≥ n, exactly, in integers).
    public let classesWithFairShare: Int
    /// KL(histogram ‖ uniform) = Σ_c q_c·log(C·q_c) with q = counts/n, in nats (0·log 0 = 0): 0 when
    /// every class is predicted equally often, log C when one class takes every row.
    public let klFromUniform: Double

    public init(probabilities: Tensor) {
        let (n, classes) = probabilityShape(probabilities)
        var counts = [Int](repeating: 0, count: classes)
        probabilities.withUnsafeBufferPointer { p in
            for row in 0..<n {
                var best = 0
                for y in 1..<max(classes, 1) where p[row * classes + y] > p[row * classes + best] { best = y }
                counts[best] += 1
            }
        }
        self.counts = counts
        classesWithFairShare = counts.filter { $0 * 4 * classes >= n }.count
        klFromUniform = counts.reduce(0) { sum, count in
            let q = Double(count) / Double(n)
            return count == 0 ? sum : sum + q * log(Double(classes) * q)
        }
    }
}

/// (n, C) of probabilities [n, C], n ≥ 1, C ≥ 1.
private func probabilityShape(_ probabilities: Tensor) -> (Int, Int) {
    precondition(probabilities.rank == 2 && probabilities.shape[0] >= 1 && probabilities.shape[1] >= 1,
                 "probabilities must be [n, C] with n, C ≥ 1, got \(probabilities.shape)")
    return (probabilities.shape[0], probabilities.shape[1])
}

/// The mean of each column over `rows`, in Double.
private func classMeans(_ probabilities: Tensor, rows: Range<Int>, classes: Int) -> [Double] {
    var means = [Double](repeating: 0, count: classes)
    probabilities.withUnsafeBufferPointer { p in
        for row in rows {
            for y in 0..<classes { means[y] += Double(p[row * classes + y]) }
        }
    }
    return means.map { $0 / Double(rows.count) }
}

/// How often the judge puts an image in the class it was meant to be: for a conditional
/// generator, the class it was asked for ("label fidelity"); for real images, their true label
/// (the judge's accuracy, the ceiling fidelity is read against). Per class and over all images.
public struct LabelFidelity: Codable, Equatable {
    /// For each class, the share of its images the judge puts in it (NaN for a class with no images).
    public let perClass: [Double]
    /// The share of all images the judge puts in their class.
    public let overall: Double

    public init(predicted: [Int], intended: [Int], classes: Int) {
        precondition(predicted.count == intended.count && !intended.isEmpty, "one prediction per image, and some images")
        var hits = [Int](repeating: 0, count: classes), counts = [Int](repeating: 0, count: classes)
        for (prediction, label) in zip(predicted, intended) {
            counts[label] += 1
            if prediction == label { hits[label] += 1 }
        }
        perClass = zip(hits, counts).map { $1 == 0 ? .nan : Double($0) / Double($1) }
        overall = Double(hits.reduce(0, +)) / Double(intended.count)
    }

    /// The numbers by key: `label_fidelity` and `label_fidelity_K` for each class K.
    public func values(prefix: String = "label_fidelity") -> [String: Double] {
        var values = [prefix: overall]
        for (label, share) in perClass.enumerated() where share.isFinite { values["\(prefix)_\(label)"] = share }
        return values
    }
}
