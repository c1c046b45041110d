import Autodiff
import Kernels

/// y = x·Wᵀ + b, with PyTorch's layout: weight [out, in], bias [out]. With `spectral`, the
/// product uses W / σ(W) (`SpectralNormalization`; the raw weight is then named "weight_orig").
public final class Dense: WeightedLayer {
    public let weight: Parameter
    public let bias: Parameter?
    /// Spectral normalisation of the weight (nil: none); its u and v are the layer's buffers.
    public let spectralNormalization: SpectralNormalization?
    public let kind = "Dense"

    public init(inputSize: Int, outputSize: Int, useBias: Bool = true, spectral: Bool = false,
                initializer: Initializer = .glorotUniform, using random: inout RandomSource) {
        let shape = [outputSize, inputSize]
        weight = Parameter(name: spectral ? "weight_orig" : "weight", value: initializer.make(
            shape: shape, fanIn: inputSize, fanOut: outputSize, using: &random))
        bias = useBias ? Parameter(name: "bias", value: Tensor(shape: [outputSize])) : nil
        spectralNormalization = spectral ? SpectralNormalization(weightShape: shape, rowAxis: 0, using: &random) : nil
    }

    public var inputSize: Int { weight.value.shape[1] }
    public var outputSize: Int { weight.value.shape[0] }

    public func callAsFunction(_ input: Variable) -> Variable {
        linear(input, forwardWeight(), bias: bias?.variable)  // [batch, out]
    }

    public func outputShape(for inputShape: [Int]) -> [Int] { [inputShape[0], outputSize] }
}
