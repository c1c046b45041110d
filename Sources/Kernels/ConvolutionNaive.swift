// Direct convolution loops in Double: the references the im2col and oneDNN kernels are tested against.

/// Calls `body(inputIndex, weightIndex, outputIndex)` for every tap of the convolution that
/// reads inside the input.
func forEachTap(_ g: ConvolutionGeometry, _ body: (Int, Int, Int) -> Void) {
    for n in 0..<g.batch {
        for co in 0..<g.outputChannels {
            for oy in 0..<g.outputHeight {
                for ox in 0..<g.outputWidth {
                    let outputIndex = ((n * g.outputChannels + co) * g.outputHeight + oy) * g.outputWidth + ox
                    for c in 0..<g.inputChannels {
                        for ky in 0..<g.kernelHeight {
                            let iy = oy * g.stride - g.padTop + ky
                            if iy < 0 || iy >= g.inputHeight { continue }
                            for kx in 0..<g.kernelWidth {
                                let ix = ox * g.stride - g.padLeft + kx
                                if ix < 0 || ix >= g.inputWidth { continue }
                                let inputIndex = ((n * g.inputChannels + c) * g.inputHeight + iy) * g.inputWidth + ix
                                let weightIndex = ((co * g.inputChannels + c) * g.kernelHeight + ky) * g.kernelWidth + kx
                                body(inputIndex, weightIndex, outputIndex)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The direct convolution beside `convolved`.
public func convolvedNaive(_ input: Tensor, _ weight: Tensor, bias: Tensor? = nil, geometry g: ConvolutionGeometry) -> Tensor {
    let x = input.scalars, w = weight.scalars
    var sums = [Double](repeating: 0, count: g.outputShape.reduce(1, *))
    forEachTap(g) { i, k, o in sums[o] += Double(x[i]) * Double(w[k]) }
    if let bias {
        for o in sums.indices { sums[o] += Double(bias[(o / g.outputPlane) % g.outputChannels]) }
    }
    return Tensor(shape: g.outputShape, scalars: sums.map(Float.init))
}

/// The direct loop beside `convolutionInputGradient`.
public func convolutionInputGradientNaive(_ outputGradient: Tensor, _ weight: Tensor, geometry g: ConvolutionGeometry) -> Tensor {
    let dy = outputGradient.scalars, w = weight.scalars
    var sums = [Double](repeating: 0, count: g.inputShape.reduce(1, *))
    forEachTap(g) { i, k, o in sums[i] += Double(dy[o]) * Double(w[k]) }
    return Tensor(shape: g.inputShape, scalars: sums.map(Float.init))
}

/// The direct loop beside `convolutionWeightGradient`.
public func convolutionWeightGradientNaive(_ input: Tensor, _ outputGradient: Tensor, geometry g: ConvolutionGeometry) -> Tensor {
    let x = input.scalars, dy = outputGradient.scalars
    var sums = [Double](repeating: 0, count: g.weightShape.reduce(1, *))
    forEachTap(g) { i, k, o in sums[k] += Double(x[i]) * Double(dy[o]) }
    return Tensor(shape: g.weightShape, scalars: sums.map(Float.init))
}
