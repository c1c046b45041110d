import Autodiff
import Kernels

/// y = x·Wᵀ + b, with PyTorch's layout: weight [out, in], bias [out].
public final class Dense: Layer {
    public let weight: Parameter
    public let bias: Parameter?
    public let kind = "Dense"

    public init(inputSize: Int, outputSize: Int, useBias: Bool = true,
                initializer: Initializer = .glorotUniform, using random: inout RandomSource) {
        weight = Parameter(name: "weight", value: initializer.make(
            shape: [outputSize, inputSize], fanIn: inputSize, fanOut: outputSize, using: &random))
        bias = useBias ? Parameter(name: "bias", value: Tensor(shape: [outputSize])) : nil
    }

    public var inputSize: Int { weight.value.shape[1] }
    public var outputSize: Int { weight.value.shape[0] }
    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }

    public func callAsFunction(_ input: Variable) -> Variable {
        linear(input, weight.variable, bias: bias?.variable)  // [batch, out]
    }

    public func outputShape(for inputShape: [Int]) -> [Int] { [inputShape[0], outputSize] }
}
