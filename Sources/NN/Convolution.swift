import Autodiff
import Kernels

/// A 2-D convolution over NCHW input, weight [out, in, k, k] as PyTorch's `Conv2d`. With
/// `spectral`, it convolves with W / σ(W), W seen as [out, in·k·k] (the raw weight: "weight_orig").
public final class Conv2D: WeightedLayer {
    public let weight: Parameter
    public let bias: Parameter?
    /// Spectral normalisation of the weight (nil: none); its u and v are the layer's buffers.
    public let spectralNormalization: SpectralNormalization?
    public let stride: Int
    public let padding: Padding
    public let kind = "Conv2D"

    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Padding = .valid,
                useBias: Bool = true, spectral: Bool = false, initializer: Initializer = .glorotUniform,
                using random: inout RandomSource) {
        let receptive = kernelSize * kernelSize
        let shape = [outputChannels, inputChannels, kernelSize, kernelSize]
        weight = Parameter(name: spectral ? "weight_orig" : "weight", value: initializer.make(
            shape: shape,
            fanIn: inputChannels * receptive, fanOut: outputChannels * receptive, using: &random))
        bias = useBias ? Parameter(name: "bias", value: Tensor(shape: [outputChannels])) : nil
        spectralNormalization = spectral ? SpectralNormalization(weightShape: shape, rowAxis: 0, using: &random) : nil
        self.stride = stride
        self.padding = padding
    }


    public func geometry(for inputShape: [Int]) -> ConvolutionGeometry {
        .convolution(inputShape: inputShape, weightShape: weight.value.shape, stride: stride, padding: padding)
    }

    public func callAsFunction(_ input: Variable) -> Variable {
        conv2d(input, forwardWeight(), bias: bias?.variable, geometry: geometry(for: input.shape))
    }

    public func outputShape(for inputShape: [Int]) -> [Int] { geometry(for: inputShape).outputShape }
}

/// A transposed 2-D convolution, weight [in, out, k, k] as PyTorch's `ConvTranspose2d`;
/// `.same` padding gives output = input · stride, cropped as Keras crops it. With `spectral`, it
/// uses W / σ(W), W seen as [out, in·k·k] (PyTorch's dim 1; the raw weight: "weight_orig").
public final class ConvTranspose2D: WeightedLayer {
    public let weight: Parameter
    public let bias: Parameter?
    /// Spectral normalisation of the weight (nil: none); its u and v are the layer's buffers.
    public let spectralNormalization: SpectralNormalization?
    public let stride: Int
    public let padding: Padding
    public let kind = "Conv2DTranspose"

    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Padding = .valid,
                useBias: Bool = true, spectral: Bool = false, initializer: Initializer = .glorotUniform,
                using random: inout RandomSource) {
        let receptive = kernelSize * kernelSize
        let shape = [inputChannels, outputChannels, kernelSize, kernelSize]
        weight = Parameter(name: spectral ? "weight_orig" : "weight", value: initializer.make(
            shape: shape,
            fanIn: outputChannels * receptive, fanOut: inputChannels * receptive, using: &random))
        bias = useBias ? Parameter(name: "bias", value: Tensor(shape: [outputChannels])) : nil
        spectralNormalization = spectral ? SpectralNormalization(weightShape: shape, rowAxis: 1, using: &random) : nil
        self.stride = stride
        self.padding = padding
    }


    public func geometry(for inputShape: [Int]) -> ConvolutionGeometry {
        .transposedConvolution(inputShape: inputShape, weightShape: weight.value.shape, stride: stride, padding: padding)
    }

    public func callAsFunction(_ input: Variable) -> Variable {
        transposedConv2d(input, forwardWeight(), bias: bias?.variable, geometry: geometry(for: input.shape))
    }

    public func outputShape(for inputShape: [Int]) -> [Int] { geometry(for: inputShape).inputShape }
}

/// [N, …] to [N, shape…] (Keras's `Reshape`: the batch dimension is kept).
public final class Reshape: Layer {
    public let shape: [Int]
    public let kind = "Reshape"
    public init(_ shape: [Int]) { self.shape = shape }
    public func callAsFunction(_ input: Variable) -> Variable { input.reshaped(to: [input.shape[0]] + shape) }
    public func outputShape(for inputShape: [Int]) -> [Int] { [inputShape[0]] + shape }
}

/// [N, …] to [N, rest].
public final class Flatten: Layer {
    public let kind = "Flatten"
    public init() {}
    public func callAsFunction(_ input: Variable) -> Variable { input.flattened() }
    public func outputShape(for inputShape: [Int]) -> [Int] { [inputShape[0], inputShape.dropFirst().reduce(1, *)] }
}
