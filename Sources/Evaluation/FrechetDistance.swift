import Kernels

/// Mean and covariance of features [n, d] (rows are samples), in Double.
public struct FeatureStatistics {
    public let count: Int, dimension: Int
    /// d elements.
    public let mean: [Double]
    /// d×d row-major, unbiased (divided by n − 1), as TF-GAN and pytorch-fid compute it.
    public let covariance: [Double]

    /// The statistics of the rows of `features` [n, d], n ≥ 2: two passes in Double (the mean,
    /// then the sums of products of the centred rows), about n·d²/2 multiply–adds.
    public init(features: Tensor) {
        precondition(features.rank == 2, "features must be [n, d], got \(features.shape)")
        let n = features.shape[0], d = features.shape[1]
        precondition(n >= 2, "a covariance needs at least 2 samples, got \(n)")
        var mean = [Double](repeating: 0, count: d)
        var covariance = [Double](repeating: 0, count: d * d)
        features.withUnsafeBufferPointer { x in
            for row in 0..<n {
                for j in 0..<d { mean[j] += Double(x[row * d + j]) }
            }
            for j in 0..<d { mean[j] /= Double(n) }
            var centred = [Double](repeating: 0, count: d)
            covariance.withUnsafeMutableBufferPointer { sums in
                for row in 0..<n {
                    for j in 0..<d { centred[j] = Double(x[row * d + j]) - mean[j] }
                    for i in 0..<d {  // the upper triangle; mirrored below
                        let ci = centred[i]
                        for j in i..<d { sums[i * d + j] += ci * centred[j] }
                    }
                }
            }
        }
        for i in 0..<d {
            for j in i..<d {
                covariance[i * d + j] /= Double(n - 1)
                covariance[j * d + i] = covariance[i * d + j]
            }
        }
        self.init(mean: mean, covariance: covariance, count: n)
    }

    /// Statistics given directly (a Gaussian's exact mean and covariance, or stored ones); `count`
    /// is the number of samples they summarise.
    public init(mean: [Double], covariance: [Double], count: Int) {
        precondition(covariance.count == mean.count * mean.count,
                     "a covariance for \(mean.count) features needs \(mean.count * mean.count) elements, got \(covariance.count)")
        self.count = count
        dimension = mean.count
        self.mean = mean
        self.covariance = covariance
    }

    var trace: Double { (0..<dimension).reduce(0) { $0 + covariance[$1 * dimension + $1] } }

    /// ‖μ − other.μ‖².
    func squaredMeanDistance(to other: FeatureStatistics) -> Double {
        precondition(dimension == other.dimension, "features of \(dimension) and \(other.dimension) dimensions")
        return zip(mean, other.mean).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
    }
}

/// ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2·(Σ₁^½ Σ₂ Σ₁^½)^½): the Fréchet distance between two Gaussians.
///
/// Σ₁^½ and Σ₂^½ come from eigen-decompositions (`symmetricSquareRoot`). The trace of the root is
/// the sum of the singular values of Σ₂^½·Σ₁^½ (their squares are the eigenvalues of
/// Σ₁^½ Σ₂ Σ₁^½ = (Σ₂^½Σ₁^½)ᵀ(Σ₂^½Σ₁^½)), which equals Tr((Σ₁Σ₂)^½), without the non-symmetric
/// matrix scipy's `sqrtm` takes and without square-rooting eigenvalues that rounding made
/// negative: a rank-deficient covariance gives a finite value, and identical statistics 0 to
/// about 10⁻¹⁵ of the trace. Cost: two eigen-decompositions, one singular value decomposition and
/// two d×d products, about 80·d³ operations (d = 128: 0.2 s).
public func frechetDistance(_ a: FeatureStatistics, _ b: FeatureStatistics) -> Double {
    let d = a.dimension
    let meanTerm = a.squaredMeanDistance(to: b)
    let rootProduct = product(symmetricSquareRoot(b.covariance, dimension: d),
                              symmetricSquareRoot(a.covariance, dimension: d), d)
    let traceOfRoot = singularValues(rootProduct, dimension: d).reduce(0, +)
    return meanTerm + a.trace + b.trace - 2 * traceOfRoot
}

/// Seed 000's Fréchet distance, for the lesson that shows it beside `frechetDistance`:
/// ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2·C) with C = √(Σ₁·Σ₂^½·Σ₁) taken ELEMENT BY ELEMENT (what
/// `tf.linalg.sqrt` does to a matrix), where the matrix square root of Σ₁·Σ₂ belongs. Σ₂^½ is the
/// correct matrix square root. Only C's diagonal reaches the trace, so this computes
/// ‖μ₁ − μ₂‖² + Σᵢ (Σ₁ᵢᵢ + Σ₂ᵢᵢ − 2·√((Σ₁Σ₂^½Σ₁)ᵢᵢ)); those diagonal elements are ≥ 0 (the
/// product is positive semi-definite) and rounding below zero counts as zero. (TensorFlow's root
/// gives NaN for negative elements off the diagonal, which the trace never reads.) It is not even
/// in the right units: scale the features by s and the true distance scales by s², this does not.
public func seed000FrechetDistance(_ a: FeatureStatistics, _ b: FeatureStatistics) -> Double {
    let d = a.dimension
    let meanTerm = a.squaredMeanDistance(to: b)
    let rootB = symmetricSquareRoot(b.covariance, dimension: d)
    let inner = product(product(a.covariance, rootB, d), a.covariance, d)
    let traceOfElementwiseRoot = (0..<d).reduce(0) { $0 + max(inner[$1 * d + $1], 0).squareRoot() }
    return meanTerm + a.trace + b.trace - 2 * traceOfElementwiseRoot
}
