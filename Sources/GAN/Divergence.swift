import Foundation
import Kernels

/// A histogram of 2-D points over a square grid of a region of the plane, with one overflow bin
/// that counts every point outside the region, so no point is lost.
public struct PlaneHistogram: Equatable {
    public let xRange: ClosedRange<Double>
    public let yRange: ClosedRange<Double>
    /// Cells along each axis; there are `bins × bins` cells plus the overflow bin (the last count).
    public let bins: Int
    public private(set) var counts: [Double]

    public init(xRange: ClosedRange<Double>, yRange: ClosedRange<Double>, bins: Int) {
        precondition(bins > 0 && xRange.upperBound > xRange.lowerBound && yRange.upperBound > yRange.lowerBound)
        self.xRange = xRange
        self.yRange = yRange
        self.bins = bins
        counts = [Double](repeating: 0, count: bins * bins + 1)
    }

    /// A histogram of the rows of a [n, 2] tensor.
    public init(points: Tensor, xRange: ClosedRange<Double>, yRange: ClosedRange<Double>, bins: Int) {
        self.init(xRange: xRange, yRange: yRange, bins: bins)
        points.withUnsafeBufferPointer { buffer in
            for i in 0..<points.shape[0] { add(Double(buffer[2 * i]), Double(buffer[2 * i + 1])) }
        }
    }

    /// Counts one point: in its cell (the upper edges belong to the last cell), else in the overflow bin.
    public mutating func add(_ x: Double, _ y: Double) {
        counts[bin(x, y)] += 1
    }

    /// The index of the cell holding (x, y), or `bins × bins` (overflow) outside the region or for NaN.
    public func bin(_ x: Double, _ y: Double) -> Int {
        guard xRange.contains(x), yRange.contains(y) else { return bins * bins }
        let column = min(Int((x - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * Double(bins)), bins - 1)
        let row = min(Int((y - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound) * Double(bins)), bins - 1)
        return row * bins + column
    }

    public var total: Double { counts.reduce(0, +) }

    /// Counts normalised to sum to 1, after adding `pseudoCount` to every bin (0: none).
    public func probabilities(pseudoCount: Double = 0) -> [Double] {
        let smoothed = counts.map { $0 + pseudoCount }
        let sum = smoothed.reduce(0, +)
        return sum > 0 ? smoothed.map { $0 / sum } : smoothed
    }
}

/// KL(p ‖ q) = Σ p·log₂(p/q) in bits, for two distributions over the same bins (each summing to 1).
/// Infinite when p puts mass where q has none.
public func klDivergence(_ p: [Double], _ q: [Double]) -> Double {
    precondition(p.count == q.count, "distributions over \(p.count) and \(q.count) bins")
    var sum = 0.0
    for (a, b) in zip(p, q) where a > 0 {
        guard b > 0 else { return .infinity }
        sum += a * log2(a / b)
    }
    return max(sum, 0)
}

/// JS(p, q) = ½ KL(p ‖ m) + ½ KL(q ‖ m) with m = ½(p + q), in bits: always finite, between 0 and 1.
public func jsDivergence(_ p: [Double], _ q: [Double]) -> Double {
    let middle = zip(p, q).map { ($0 + $1) / 2 }
    return min(max(0.5 * klDivergence(p, middle) + 0.5 * klDivergence(q, middle), 0), 1)
}

/// The divergences between a real and a fake sample of equal size, estimated on a grid.
public struct GridDivergence: Equatable {
    /// KL(real ‖ fake) in bits, with `pseudoCount` added to every bin of both histograms.
    public var kl: Double
    /// JS(real, fake) in bits, from the raw histograms.
    public var js: Double

    /// Both histograms use the same grid and count out-of-grid points in the overflow bin.
    /// KL needs a pseudo-count (a fake histogram is empty in some cells that real points reach);
    /// JS does not.
    public init(real: Tensor, fake: Tensor, xRange: ClosedRange<Double>, yRange: ClosedRange<Double>, bins: Int,
                pseudoCount: Double = 0.5) {
        precondition(real.shape[0] == fake.shape[0], "compare samples of the same size: \(real.shape[0]) real, \(fake.shape[0]) fake")
        let p = PlaneHistogram(points: real, xRange: xRange, yRange: yRange, bins: bins)
        let q = PlaneHistogram(points: fake, xRange: xRange, yRange: yRange, bins: bins)
        kl = klDivergence(p.probabilities(pseudoCount: pseudoCount), q.probabilities(pseudoCount: pseudoCount))
        js = jsDivergence(p.probabilities(), q.probabilities())
    }
}
