import Foundation
import Kernels

/// An equal-weight mixture of isotropic 2-D Gaussians: the mode-collapse benchmarks.
public struct GaussianMixture: Equatable {
    /// Mode centres, in the order the metrics number them.
    public let means: [(x: Double, y: Double)]
    /// Standard deviation of every component on each axis.
    public let std: Double

    public init(means: [(x: Double, y: Double)], std: Double) {
        precondition(!means.isEmpty && std > 0, "a mixture needs modes and a positive std")
        self.means = means
        self.std = std
    }

    /// `count` modes at angles 2πk/count (k = 0…count−1) on a circle: k never reaches count,
    /// so the first and last modes are distinct (linspace(0, 2π, 8) would give only 7).
    public static func ring(modes count: Int = 8, radius: Double = 1, std: Double = 0.01) -> GaussianMixture {
        GaussianMixture(means: (0..<count).map { k in
            let angle = 2 * Double.pi * Double(k) / Double(count)
            return (radius * cos(angle), radius * sin(angle))
        }, std: std)
    }

    /// Modes on a square lattice: `side`² of them at spacing `spacing`, centred on the origin
    /// (side 5, spacing 2: {−4, −2, 0, 2, 4}²), numbered row by row from the bottom left.
    public static func grid(side: Int = 5, spacing: Double = 2, std: Double = 0.05) -> GaussianMixture {
        let offset = Double(side - 1) / 2
        return GaussianMixture(means: (0..<side * side).map { index in
            (spacing * (Double(index % side) - offset), spacing * (Double(index / side) - offset))
        }, std: std)
    }

    public var modeCount: Int { means.count }

    /// `count` points as a [count, 2] tensor: a uniformly chosen mode plus N(0, std²·I).
    public func sample(count: Int, using random: inout RandomSource) -> Tensor {
        var points = Tensor(uninitializedShape: [count, 2])
        points.withUnsafeMutableBufferPointer { buffer in
            for i in 0..<count {
                let mode = means[random.index(below: means.count)]
                buffer[2 * i] = Float(mode.x + std * random.normal())
                buffer[2 * i + 1] = Float(mode.y + std * random.normal())
            }
        }
        return points
    }

    public static func == (a: GaussianMixture, b: GaussianMixture) -> Bool {
        a.std == b.std && a.means.count == b.means.count && zip(a.means, b.means).allSatisfy { $0.x == $1.x && $0.y == $1.y }
    }
}
