import Autodiff
import Kernels

/// y = x·Wᵀ + b, with PyTorch's layout: weight [out, in], bias [out]. With `spectral`, the
/// product uses W / σ(W) (`SpectralNormalization`; the raw weight is then named "weight_orig").
public final class Dense: Layer {
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

    public func callAsFunction(_ input: Variable) -> Variable {
        linear(input, forwardWeight(), bias: bias?.variable)  // [batch, out]
    }

    public func outputShape(for inputShape: [Int]) -> [Int] { [inputShape[0], outputSize] }
}
