import Kernels

// Convolution and its two gradients form a closed set of bilinear ops: the pullback of each
// is built from the other two, so gradients of gradients (WGAN-GP) work through them.

/// The 2-D convolution of `input` [N, C, H, W] by `weight` [Co, C, kh, kw] (+ `bias` [Co]).
/// When the weight may need a gradient, the forward pass keeps what that gradient can use of the
/// input (its im2col matrices, or on oneDNN the input as reordered for it), and a pullback that
/// needs both gradients computes them together (on oneDNN one reorder of the output gradient).
public func conv2d(_ input: Variable, _ weight: Variable, bias: Variable? = nil, geometry: ConvolutionGeometry) -> Variable {
    let keepsInput = GradientRecording.isEnabled && weight.node != nil
    let (value, kept) = keepsInput
        ? convolvedKeepingInput(input.value, weight.value, bias: bias?.value, geometry: geometry)
        : (convolved(input.value, weight.value, bias: bias?.value, geometry: geometry), nil)
    return Variable.record(value, parents: layerParents(input, weight, bias)) { g, _, needs in
        let biasGradient = bias == nil ? [] : [needs[2] ? g.channelSums() : nil]
        if GradientRecording.isEnabled {  // recorded, for a gradient of this gradient
            return [needs[0] ? convolutionInputGradient(g, weight, geometry: geometry) : nil,
                    needs[1] ? convolutionWeightGradient(input, g, geometry: geometry) : nil] + biasGradient
        }
        if needs[0] && needs[1] {
            let (inputGradient, weightGradient) = convolutionGradients(input.value, kept: kept, weight.value, g.value, geometry: geometry)
            return [Variable(inputGradient), Variable(weightGradient)] + biasGradient
        }
        return [needs[0] ? convolutionInputGradient(g, weight, geometry: geometry) : nil,
                needs[1] ? Variable(convolutionWeightGradient(input.value, kept: kept, g.value, geometry: geometry)) : nil]
            + biasGradient
    }
}

/// The transposed convolution of `input` [N, C, h, w] by `weight` [C, Co, kh, kw] (PyTorch's
/// layout), + `bias` [Co]; `geometry` comes from `ConvolutionGeometry.transposedConvolution`.
public func transposedConv2d(_ input: Variable, _ weight: Variable, bias: Variable? = nil,
                             geometry: ConvolutionGeometry) -> Variable {
    let product = convolutionInputGradient(input, weight, geometry: geometry)
    return bias.map { product.addingChannelBias($0) } ?? product
}

/// The input gradient of the convolution `geometry` for an output gradient (a transposed
/// convolution). When the weight may need a gradient, oneDNN's reorder of the output gradient is
/// kept for the backward-weights pass, which reads it again.
public func convolutionInputGradient(_ outputGradient: Variable, _ weight: Variable, geometry: ConvolutionGeometry) -> Variable {
    let keeps = GradientRecording.isEnabled && weight.node != nil
    let (value, kept) = convolutionInputGradientKeeping(outputGradient.value, weight.value, keeping: keeps, geometry: geometry)
    return Variable.record(value, parents: [outputGradient, weight]) { h, _, needs in
        if needs[0] && needs[1] && !GradientRecording.isEnabled {  // one im2col (or reorder) of h serves both
            let (input, weightGradient) = convolvedWithWeightGradient(h.value, weight.value, outputGradient.value,
                                                                      keptOutputGradient: kept, geometry: geometry)
            return [Variable(input), Variable(weightGradient)]
        }
        return [needs[0] ? conv2d(h, weight, geometry: geometry) : nil,
                needs[1] ? convolutionWeightGradient(h, outputGradient, geometry: geometry) : nil]
    }
}

/// The weight gradient of the convolution `geometry` for an input and an output gradient.
public func convolutionWeightGradient(_ input: Variable, _ outputGradient: Variable, geometry: ConvolutionGeometry) -> Variable {
    let value = convolutionWeightGradient(input.value, outputGradient.value, geometry: geometry)
    return Variable.record(value, parents: [input, outputGradient]) { h, _, needs in
        [needs[0] ? convolutionInputGradient(outputGradient, h, geometry: geometry) : nil,
         needs[1] ? conv2d(input, h, geometry: geometry) : nil]
    }
}
