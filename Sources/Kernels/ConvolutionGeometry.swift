/// How a convolution pads its input. For a transposed convolution the same values say how
/// much of the full transposed output is cut away (PyTorch padding p with output padding q is
/// `.explicit(top: p, bottom: p - q, left: p, right: p - q)`).
public enum Padding: Equatable {
    /// No padding: windows lie entirely inside the input.
    case valid
    /// Keras's "same": output = ⌈input / stride⌉; when the total padding is odd the extra row
    /// and column go at the bottom and right.
    case same
    case explicit(top: Int, bottom: Int, left: Int, right: Int)

    /// The same amount on every side.
    public static func uniform(_ amount: Int) -> Padding { .explicit(top: amount, bottom: amount, left: amount, right: amount) }
}

/// The sizes of one 2-D convolution (NCHW, cross-correlation, dilation 1). Every input position
/// `oy·stride − padTop + ky` outside the input reads zero.
public struct ConvolutionGeometry: Hashable {
    public var batch: Int
    public var inputChannels: Int, inputHeight: Int, inputWidth: Int
    public var outputChannels: Int, outputHeight: Int, outputWidth: Int
    public var kernelHeight: Int, kernelWidth: Int, stride: Int
    public var padTop: Int, padLeft: Int

    public init(batch: Int, inputChannels: Int, inputHeight: Int, inputWidth: Int,
                outputChannels: Int, outputHeight: Int, outputWidth: Int,
                kernelHeight: Int, kernelWidth: Int, stride: Int, padTop: Int, padLeft: Int) {
        self.batch = batch
        self.inputChannels = inputChannels
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.outputChannels = outputChannels
        self.outputHeight = outputHeight
        self.outputWidth = outputWidth
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.stride = stride
        self.padTop = padTop
        self.padLeft = padLeft
    }

    /// A convolution of `inputShape` [N, C, H, W] by a weight [outputChannels, C, kh, kw].
    public static func convolution(inputShape: [Int], weightShape: [Int], stride: Int, padding: Padding) -> ConvolutionGeometry {
        precondition(inputShape.count == 4 && weightShape.count == 4, "convolution needs NCHW input and a 4-D weight")
        precondition(inputShape[1] == weightShape[1], "input has \(inputShape[1]) channels, weight expects \(weightShape[1])")
        let (kh, kw) = (weightShape[2], weightShape[3])
        let (oh, top) = outputSize(inputShape[2], kh, stride, padding, vertical: true)
        let (ow, left) = outputSize(inputShape[3], kw, stride, padding, vertical: false)
        precondition(oh > 0 && ow > 0, "convolution of \(inputShape) by \(weightShape) has an empty output")
        return ConvolutionGeometry(batch: inputShape[0], inputChannels: inputShape[1], inputHeight: inputShape[2],
                                   inputWidth: inputShape[3], outputChannels: weightShape[0], outputHeight: oh,
                                   outputWidth: ow, kernelHeight: kh, kernelWidth: kw, stride: stride, padTop: top, padLeft: left)
    }

    /// The convolution whose input gradient is the transposed convolution of `inputShape`
    /// [N, C, h, w] by a weight [C, outputChannels, kh, kw] (PyTorch's layout).
    public static func transposedConvolution(inputShape: [Int], weightShape: [Int], stride: Int, padding: Padding) -> ConvolutionGeometry {
        precondition(inputShape.count == 4 && weightShape.count == 4, "transposed convolution needs NCHW input and a 4-D weight")
        precondition(inputShape[1] == weightShape[0], "input has \(inputShape[1]) channels, weight expects \(weightShape[0])")
        let (kh, kw) = (weightShape[2], weightShape[3])
        func size(_ n: Int, _ k: Int, vertical: Bool) -> (Int, Int) {
            switch padding {
            case .same: return (n * stride, max(k - stride, 0) / 2)
            case .valid: return (n * stride + max(k - stride, 0), 0)
            case let .explicit(top, bottom, left, right):
                return vertical ? ((n - 1) * stride + k - top - bottom, top) : ((n - 1) * stride + k - left - right, left)
            }
        }
        let (oh, top) = size(inputShape[2], kh, vertical: true), (ow, left) = size(inputShape[3], kw, vertical: false)
        precondition(oh > 0 && ow > 0, "transposed convolution of \(inputShape) by \(weightShape) has an empty output")
        return ConvolutionGeometry(batch: inputShape[0], inputChannels: weightShape[1], inputHeight: oh, inputWidth: ow,
                                   outputChannels: inputShape[1], outputHeight: inputShape[2], outputWidth: inputShape[3],
                                   kernelHeight: kh, kernelWidth: kw, stride: stride, padTop: top, padLeft: left)
    }

    static func outputSize(_ n: Int, _ k: Int, _ stride: Int, _ padding: Padding, vertical: Bool) -> (size: Int, padBefore: Int) {
        switch padding {
        case .valid: return ((n - k) / stride + 1, 0)
        case .same:
            let out = (n + stride - 1) / stride
            return (out, max((out - 1) * stride + k - n, 0) / 2)
        case let .explicit(top, bottom, left, right):
            let (before, after) = vertical ? (top, bottom) : (left, right)
            return ((n + before + after - k) / stride + 1, before)
        }
    }

    public var inputShape: [Int] { [batch, inputChannels, inputHeight, inputWidth] }
    public var outputShape: [Int] { [batch, outputChannels, outputHeight, outputWidth] }
    public var weightShape: [Int] { [outputChannels, inputChannels, kernelHeight, kernelWidth] }
    /// Rows of the im2col matrix: one per (input channel, kernel row, kernel column).
    public var patchSize: Int { inputChannels * kernelHeight * kernelWidth }
    public var outputPlane: Int { outputHeight * outputWidth }
    public var inputPlane: Int { inputHeight * inputWidth }
    /// Rows and columns of zeros the windows read past the input's bottom and right edges (Keras's
    /// "same" at stride 2 pads 1 before and 2 after); negative when the last rows or columns of
    /// the input lie beyond every window.
    var padBottom: Int { (outputHeight - 1) * stride + kernelHeight - inputHeight - padTop }
    var padRight: Int { (outputWidth - 1) * stride + kernelWidth - inputWidth - padLeft }
    /// Multiply–adds of the forward product.
    public var multiplyAdds: Int { batch * outputChannels * outputPlane * patchSize }

    /// The same convolution for another batch size.
    public func with(batch: Int) -> ConvolutionGeometry {
        var copy = self
        copy.batch = batch
        return copy
    }
}
