import Kernels

/// A rule applied to parameters after each optimizer update.
public protocol ParameterConstraint: AnyObject {
    func apply()
}

/// WGAN's weight clipping: every element of every parameter kept in [−limit, limit].
public final class WeightClipping: ParameterConstraint {
    public let parameters: [Parameter]
    public let limit: Float

    public init(parameters: [Parameter], limit: Float = 0.01) {
        self.parameters = parameters
        self.limit = limit
    }

    public func apply() {
        for parameter in parameters { parameter.value = parameter.value.clamped(low: -limit, high: limit) }
    }
}

/// Spectral normalization as a constraint: each weight, seen as a matrix [out, rest], is divided
/// by its largest singular value σ, estimated by power iteration with a persistent vector u
/// (one iteration per update, as Miyato et al. and PyTorch's `spectral_norm` do).
public final class SpectralNormalization: ParameterConstraint {
    public let parameters: [Parameter]
    public let iterations: Int
    private var leftVectors: [Tensor]
    /// The σ estimated at the last `apply()`, per parameter.
    public private(set) var lastSigmas: [Float] = []

    public init(parameters: [Parameter], iterations: Int = 1, using random: inout RandomSource) {
        self.parameters = parameters
        self.iterations = iterations
        leftVectors = parameters.map { normalizedVector(.normal(shape: [$0.value.shape[0], 1], using: &random)) }
    }

    public func apply() {
        lastSigmas = []
        for (index, parameter) in parameters.enumerated() {
            let rows = parameter.value.shape[0]
            let matrix = parameter.value.reshaped(to: [rows, parameter.value.count / rows])
            var u = leftVectors[index], v = Tensor(shape: [matrix.shape[1], 1])
            for _ in 0..<max(iterations, 1) {
                v = normalizedVector(matmul(matrix, u, transposeA: true))
                u = normalizedVector(matmul(matrix, v))
            }
            leftVectors[index] = u
            let sigma = (u * matmul(matrix, v)).sum()
            lastSigmas.append(sigma)
            if sigma > 0 { parameter.value = parameter.value * (1 / sigma) }
        }
    }
}

func normalizedVector(_ x: Tensor) -> Tensor {
    let norm = (x * x).sum().squareRoot()
    return x * (1 / max(norm, 1e-12))
}
