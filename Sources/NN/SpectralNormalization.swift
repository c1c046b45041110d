import Autodiff
import Kernels

/// Spectral normalisation of a layer's weight (Miyato et al. 2018), as PyTorch's
/// `torch.nn.utils.spectral_norm` computes it. The weight W, seen as a matrix with the layer's
/// output axis as rows ([out, rest]), is used as W / σ(W), where σ = uᵀ·W·v estimates W's largest
/// singular value. In training mode each forward pass first takes one power-iteration step,
/// v = normalize(Wᵀu), u = normalize(Wv), normalize(x) = x / max(‖x‖, 1e-12); in inference mode
/// the stored u and v are used as they are. u and v are constants of the graph: the gradient
/// reaches W through W / σ and through σ's own W (PyTorch's formulation).
///
/// Names as PyTorch's `state_dict`: the layer's raw weight is the parameter "weight_orig", u and
/// v are the buffers "weight_u" [out] and "weight_v" [rest] (saved in checkpoints, not trained).
public final class SpectralNormalization {
    /// u: the left singular vector estimate, one element per output unit or channel.
    public let u: Parameter
    /// v: the right singular vector estimate, one element per column of the weight matrix.
    public let v: Parameter
    /// The weight axis that becomes the matrix's rows: 0 for Dense and Conv2D, 1 for
    /// ConvTranspose2D (PyTorch's `dim`, whose weight is [in, out, k, k]).
    public let rowAxis: Int
    /// PyTorch's `eps`: the smallest norm normalize divides by.
    public let epsilon: Float = 1e-12
    /// Training mode: a power-iteration step before each forward pass.
    public var isTraining = true
    /// σ of the last forward pass (nil before the first).
    public private(set) var lastSigma: Float?

    /// u and v for a weight of `weightShape`, each N(0, 1) then normalized (as PyTorch), u drawn first.
    public init(weightShape: [Int], rowAxis: Int, using random: inout RandomSource) {
        precondition(weightShape.indices.contains(rowAxis), "row axis \(rowAxis) of a weight \(weightShape)")
        self.rowAxis = rowAxis
        let rows = weightShape[rowAxis], columns = weightShape.reduce(1, *) / max(rows, 1)
        u = Parameter(name: "weight_u", value: Tensor.normal(shape: [rows], using: &random))
        v = Parameter(name: "weight_v", value: Tensor.normal(shape: [columns], using: &random))
        u.value = normalized(u.value)
        v.value = normalized(v.value)
    }

    /// u and v as buffers, in PyTorch's order.
    public var buffers: [Parameter] { [u, v] }

    /// W / σ(W) for the layer's raw weight, after one power-iteration step in training mode.
    public func normalizedWeight(_ weight: Variable) -> Variable {
        let matrix = self.matrix(weight)  // [rows, columns]
        if isTraining {
            let (rows, columns) = (matrix.shape[0], matrix.shape[1])
            v.value = normalized(matmul(matrix.value, u.value.reshaped(to: [rows, 1]), transposeA: true)).reshaped(to: [columns])
            u.value = normalized(matmul(matrix.value, v.value.reshaped(to: [columns, 1]))).reshaped(to: [rows])
        }
        let sigma = self.sigma(matrix)
        lastSigma = sigma.value.scalars[0]
        return weight / sigma.reshaped(to: [Int](repeating: 1, count: weight.rank))
    }

    /// σ = uᵀ·W·v with the stored u and v (no power iteration), as a scalar.
    public func sigma(of weight: Tensor) -> Float { sigma(matrix(Variable(weight))).value.scalars[0] }

    /// W / σ with the stored u and v: the weight the layer uses in inference mode.
    public func normalizedWeight(_ weight: Tensor) -> Tensor {
        withoutGradients { (Variable(weight) / Variable(Tensor(sigma(of: weight)))).value }
    }

    /// The weight as PyTorch's `reshape_weight_to_matrix`: the row axis first, the rest flattened.
    func matrix(_ weight: Variable) -> Variable {
        let rows = weight.shape[rowAxis]
        let leading = rowAxis == 0 ? weight : weight.permuted([rowAxis] + weight.shape.indices.filter { $0 != rowAxis })
        return leading.reshaped(to: [rows, weight.value.count / max(rows, 1)])
    }

    /// uᵀ·(W·v), [1, 1]: differentiable in W, u and v constants.
    private func sigma(_ matrix: Variable) -> Variable {
        let (rows, columns) = (matrix.shape[0], matrix.shape[1])
        let product = Autodiff.matmul(matrix, Variable(v.value.reshaped(to: [columns, 1])))  // W·v [rows, 1]
        return Autodiff.matmul(Variable(u.value.reshaped(to: [1, rows])), product)
    }

    /// x / max(‖x‖, ε).
    private func normalized(_ x: Tensor) -> Tensor {
        let norm = Float(x.scalars.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot())
        let divisor = max(norm, epsilon)
        return x.mapped { $0 / divisor }
    }
}

/// A layer with a weight, an optional bias and optional spectral normalisation of the weight
/// (Dense, Conv2D, ConvTranspose2D): their parameters, buffers, mode and the weight they apply.
public protocol WeightedLayer: Layer {
    var weight: Parameter { get }
    var bias: Parameter? { get }
    var spectralNormalization: SpectralNormalization? { get }
}

extension WeightedLayer {
    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }
    public var buffers: [Parameter] { spectralNormalization?.buffers ?? [] }

    /// Training mode matters only to a spectrally normalised layer (a power-iteration step a pass).
    public var isTraining: Bool {
        get { spectralNormalization?.isTraining ?? false }
        set { spectralNormalization?.isTraining = newValue }
    }

    /// The weight of this forward pass: the raw weight, or W / σ(W) after a power-iteration step
    /// in training mode. Call once per pass.
    public func forwardWeight() -> Variable {
        spectralNormalization?.normalizedWeight(weight.variable) ?? weight.variable
    }

    /// The weight the layer applies in inference mode (W / σ with the stored u and v when spectral).
    public var effectiveWeight: Tensor { spectralNormalization?.normalizedWeight(weight.value) ?? weight.value }
}
