import Autodiff
import Kernels

/// Minibatch discrimination (Salimans et al. 2016): lets D compare the samples of a batch.
///
/// A learned tensor T maps each sample's features f [n, A] to `kernels` rows of `kernelSize`
/// numbers, M = f·T [n, B, C]. For each kernel b, samples i and j are close when the L1 distance
/// ‖M_i,b − M_j,b‖₁ is small: c_b(i, j) = exp(−‖M_i,b − M_j,b‖₁). The layer appends
/// o(x_i)_b = Σ_j c_b(i, j) (j over the whole batch) to the features: [n, A] → [n, A + B].
/// A collapsed batch makes every o large, which D can learn to call fake.
/// |x| is smoothed as √(x² + 10⁻⁸) (composed from exp and log), so gradients of every order exist.
public final class MinibatchDiscrimination: Layer {
    /// T, stored as [A, B·C].
    public let tensor: Parameter
    public let kernels: Int
    public let kernelSize: Int
    public let kind = "MinibatchDiscrimination"

    public init(inputSize: Int, kernels: Int, kernelSize: Int, using random: inout RandomSource) {
        self.kernels = kernels
        self.kernelSize = kernelSize
        tensor = Parameter(name: "tensor", value: .normal(shape: [inputSize, kernels * kernelSize], std: 0.1, using: &random))
    }

    public var inputSize: Int { tensor.value.shape[0] }
    public var parameters: [Parameter] { [tensor] }

    public func callAsFunction(_ input: Variable) -> Variable {
        let n = input.shape[0], (a, b, c) = (inputSize, kernels, kernelSize)
        let rows = matmul(input, tensor.variable)                                      // [n, B·C]
        let difference = rows.reshaped(to: [n, 1, b, c]) - rows.reshaped(to: [1, n, b, c])  // [n, n, B, C]
        let distance = smoothAbsolute(difference).summed(alongAxes: [3])                // [n, n, B, 1]
        let closeness = (-distance).exp().summed(alongAxes: [1]).reshaped(to: [n, b])   // [n, B]
        // [f, o] as f·[I 0] + o·[0 I]: concatenation from matrix products.
        return matmul(input, Variable(placement(rows: a, offset: 0, width: a + b)))
            + matmul(closeness, Variable(placement(rows: b, offset: a, width: a + b)))
    }

    public func outputShape(for inputShape: [Int]) -> [Int] { [inputShape[0], inputSize + kernels] }
}

/// √(x² + ε): |x| with a smooth bottom.
func smoothAbsolute(_ x: Variable, epsilon: Float = 1e-8) -> Variable {
    (((x * x) + epsilon).log() * 0.5).exp()
}

/// A [rows, width] matrix copying its input's columns to columns offset..<offset+rows.
func placement(rows: Int, offset: Int, width: Int) -> Tensor {
    var matrix = Tensor(shape: [rows, width])
    for row in 0..<rows { matrix[row * width + offset + row] = 1 }
    return matrix
}
