import Kernels

/// The 2-D toy distributions of the tutorials, sampled from the lab's seeded generator.
public enum ToyDistribution: Equatable {
    /// N(mean, std²·I).
    case gaussian(meanX: Double, meanY: Double, std: Double)
    /// Uniform in the unit disk, by rejection from the square [-1, 1]² (as the tutorial does).
    case unitDisk
    /// x uniform in [-halfWidth, halfWidth], y = offset + x².
    case quadratic(halfWidth: Double, offset: Double)
    /// A user's points (x, y pairs, flattened), each draw one of them uniformly at random, with
    /// replacement: the data set is the distribution.
    case points([Float])

    /// A user's points, [n, 2].
    public static func empirical(_ points: Tensor) -> ToyDistribution {
        precondition(points.rank == 2 && points.shape[1] == 2 && points.shape[0] > 0, "points must be [n, 2], got \(points.shape)")
        return .points(points.scalars)
    }

    /// `count` points as a [count, 2] tensor.
    public func sample(count: Int, using random: inout RandomSource) -> Tensor {
        var points = Tensor(uninitializedShape: [count, 2])
        points.withUnsafeMutableBufferPointer { buffer in
            for i in 0..<count {
                let (x, y) = samplePoint(using: &random)
                buffer[2 * i] = Float(x)
                buffer[2 * i + 1] = Float(y)
            }
        }
        return points
    }

    private func samplePoint(using random: inout RandomSource) -> (Double, Double) {
        switch self {
        case .gaussian(let meanX, let meanY, let std):
            return (meanX + std * random.normal(), meanY + std * random.normal())
        case .unitDisk:
            while true {
                let x = random.uniform(-1, 1), y = random.uniform(-1, 1)
                if x * x + y * y <= 1 { return (x, y) }
            }
        case .quadratic(let halfWidth, let offset):
            let x = random.uniform(-halfWidth, halfWidth)
            return (x, offset + x * x)
        case .points(let values):
            let index = Int(random.nextBits() % UInt64(values.count / 2))
            return (Double(values[2 * index]), Double(values[2 * index + 1]))
        }
    }
}

/// Mean and standard deviation of each column of a [n, d] tensor (population std).
public func columnStatistics(_ points: Tensor) -> (means: [Double], stds: [Double]) {
    let (n, d) = (points.shape[0], points.shape[1])
    var sums = [Double](repeating: 0, count: d), squares = [Double](repeating: 0, count: d)
    points.withUnsafeBufferPointer { buffer in
        for i in 0..<n {
            for j in 0..<d {
                let v = Double(buffer[i * d + j])
                sums[j] += v
                squares[j] += v * v
            }
        }
    }
    let means = sums.map { $0 / Double(max(n, 1)) }
    let stds = (0..<d).map { j in max(squares[j] / Double(max(n, 1)) - means[j] * means[j], 0).squareRoot() }
    return (means, stds)
}
