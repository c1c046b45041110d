import Autodiff
import Foundation
import Kernels

/// Minibatch discrimination (Salimans et al. 2016): lets D compare the samples of a batch.
///
/// A learned tensor T maps each sample's features f [n, A] to `kernels` rows of `kernelSize`
/// numbers, M = f·T [n, B, C]. For each kernel b, samples i and j are close when the L1 distance
/// ‖M_i,b − M_j,b‖₁ is small: c_b(i, j) = exp(−‖M_i,b − M_j,b‖₁). The layer appends
/// o(x_i)_b = Σ_j c_b(i, j) (j over the whole batch) to the features: [n, A] → [n, A + B].
/// A collapsed batch makes every o large, which D can learn to call fake.
/// The closeness sums are one fused op (forward and backward as loops over the batch's pairs);
/// its pullback is not itself differentiable, so a gradient penalty cannot be taken through it.
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
        let (a, b) = (inputSize, kernels)
        let rows = matmul(input, tensor.variable)                                   // [n, B·C]
        let closeness = closenessSums(rows, kernels: b, kernelSize: kernelSize)     // [n, B]
        // [f, o] as f·[I 0] + o·[0 I]: concatenation from matrix products.
        return matmul(input, Variable(placement(rows: a, offset: 0, width: a + b)))
            + matmul(closeness, Variable(placement(rows: b, offset: a, width: a + b)))
    }

    public func outputShape(for inputShape: [Int]) -> [Int] { [inputShape[0], inputSize + kernels] }
}

/// o[i, b] = Σ_j exp(−Σ_c |M[i, b, c] − M[j, b, c]|) for rows M [n, B·C]; the pullback is
/// dM[i, b, c] = −Σ_j (g[i, b] + g[j, b]) · e_ijb · sign(M[i, b, c] − M[j, b, c]). Both run in
/// Kernels' `closenessSums`, the whole batch at once.
func closenessSums(_ rows: Variable, kernels: Int, kernelSize: Int) -> Variable {
    let m = rows.value
    let (sums, exponentials) = Kernels.closenessSums(m, kernels: kernels, size: kernelSize)
    return Variable.record(sums, parents: [rows]) { upstream, _, _ in
        [Variable(closenessSumsPullback(m, upstream: upstream.value, exponentials: exponentials, kernels: kernels,
                                        size: kernelSize))]
    }
}

/// A [rows, width] matrix copying its input's columns to columns offset..<offset+rows.
func placement(rows: Int, offset: Int, width: Int) -> Tensor {
    var matrix = Tensor(shape: [rows, width])
    for row in 0..<rows { matrix[row * width + offset + row] = 1 }
    return matrix
}
