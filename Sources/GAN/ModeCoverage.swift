import Foundation
import Kernels

/// The mode-coverage metrics of the literature (VEEGAN, PacGAN) for samples of a 2-D mixture.
///
/// A sample is *high quality* when it lies within `threshold`·σ (3σ) of its nearest mode; a mode
/// is *captured* when it is the nearest mode of at least one high-quality sample.
public struct ModeCoverage: Equatable {
    /// High-quality samples whose nearest mode is each mode, in the mixture's mode order.
    public let countsPerMode: [Int]
    /// Nearest-mode counts of all samples, high quality or not.
    public let nearestCountsPerMode: [Int]
    /// How many samples were judged.
    public let sampleCount: Int

    /// Judges the rows of a [n, 2] tensor against modes with per-axis standard deviation `std`.
    public init(samples: Tensor, means: [(x: Double, y: Double)], std: Double, threshold: Double = 3) {
        precondition(samples.rank == 2 && samples.shape[1] == 2, "samples must be [n, 2], got \(samples.shape)")
        let limit = (threshold * std) * (threshold * std)
        var counts = [Int](repeating: 0, count: means.count), nearest = counts
        let n = samples.shape[0]
        samples.withUnsafeBufferPointer { points in
            for i in 0..<n {
                let x = Double(points[2 * i]), y = Double(points[2 * i + 1])
                var best = 0, bestDistance = Double.infinity
                for (index, mode) in means.enumerated() {
                    let distance = (x - mode.x) * (x - mode.x) + (y - mode.y) * (y - mode.y)
                    if distance < bestDistance { best = index; bestDistance = distance }
                }
                nearest[best] += 1
                if bestDistance <= limit { counts[best] += 1 }
            }
        }
        countsPerMode = counts
        nearestCountsPerMode = nearest
        sampleCount = n
    }

    public var modeCount: Int { countsPerMode.count }
    /// Modes that are the nearest mode of at least one high-quality sample.
    public var modesCaptured: Int { countsPerMode.filter { $0 > 0 }.count }
    public var highQualityCount: Int { countsPerMode.reduce(0, +) }
    /// Percentage of samples within 3σ of their nearest mode (≈ 98.9 % for the true mixture).
    public var highQualityPercent: Double { sampleCount == 0 ? 0 : 100 * Double(highQualityCount) / Double(sampleCount) }

    /// KL(q ‖ uniform) of the high-quality samples' mode histogram q: 0 when every mode gets
    /// the same share, log K when all sit on one mode, infinite when no sample is high quality.
    public var reverseKL: Double {
        let total = Double(highQualityCount)
        guard total > 0 else { return .infinity }
        let modes = Double(modeCount)
        return countsPerMode.reduce(0.0) { sum, count in
            guard count > 0 else { return sum }
            let share = Double(count) / total
            return sum + share * Foundation.log(share * modes)
        }
    }

    /// The high-quality fraction of samples drawn from the mixture itself: P(‖N(0, σ²I₂)‖ ≤ tσ) = 1 − e^(−t²/2).
    public static func idealHighQualityPercent(threshold: Double = 3) -> Double {
        100 * (1 - Foundation.exp(-threshold * threshold / 2))
    }
}
