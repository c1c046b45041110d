import Kernels

/// Maps data to zero mean and unit standard deviation per column, and back.
public struct Standardizer: Equatable {
    public let means: [Float]
    public let stds: [Float]

    public init(means: [Float], stds: [Float]) {
        precondition(means.count == stds.count && stds.allSatisfy { $0 > 0 }, "one positive std per mean")
        self.means = means
        self.stds = stds
    }

    /// The statistics of the columns of a [n, d] sample.
    public init(fitting points: Tensor) {
        let statistics = columnStatistics(points)
        self.init(means: statistics.means.map(Float.init), stds: statistics.stds.map { Float(max($0, 1e-12)) })
    }

    /// (x − mean) / std, column by column.
    public func standardized(_ points: Tensor) -> Tensor {
        (points - Tensor(shape: [1, means.count], scalars: means)) / Tensor(shape: [1, stds.count], scalars: stds)
    }

    /// x · std + mean, column by column.
    public func restored(_ points: Tensor) -> Tensor {
        points * Tensor(shape: [1, stds.count], scalars: stds) + Tensor(shape: [1, means.count], scalars: means)
    }
}
