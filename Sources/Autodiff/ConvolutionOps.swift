import Kernels

// Convolution and its two gradients form a closed set of bilinear ops: the pullback of each
// is built from the other two, so gradients of gradients (WGAN-GP) work through them.

/// The 2-D convolution of `input` [N, C, H, W] by `weight` [Co, C, kh, kw] (+ `bias` [Co]).
/// When the weight may need a gradient, the forward pass keeps its im2col matrices for it (on the
/// im2col path; oneDNN reads the input again).
public func conv2d(_ input: Variable, _ weight: Variable, bias: Variable? = nil, geometry: ConvolutionGeometry) -> Variable {
    let keepsColumns = GradientRecording.isEnabled && weight.node != nil
    let (value, columns) = keepsColumns
        ? convolvedKeepingColumns(input.value, weight.value, bias: bias?.value, geometry: geometry)
        : (convolved(input.value, weight.value, bias: bias?.value, geometry: geometry), nil)
    return Variable.record(value, parents: layerParents(input, weight, bias)) { g, _, needs in
        let weightGradient: Variable?
        if !needs[1] {
            weightGradient = nil
        } else if let columns, !GradientRecording.isEnabled {
            weightGradient = Variable(convolutionWeightGradient(columns: columns, outputGradient: g.value, geometry: geometry))
        } else {  // recorded, for a gradient of this gradient
            weightGradient = convolutionWeightGradient(input, g, geometry: geometry)
        }
        return [needs[0] ? convolutionInputGradient(g, weight, geometry: geometry) : nil, weightGradient]
            + (bias == nil ? [] : [needs[2] ? g.channelSums() : nil])
    }
}

/// The transposed convolution of `input` [N, C, h, w] by `weight` [C, Co, kh, kw] (PyTorch's
/// layout), + `bias` [Co]; `geometry` comes from `ConvolutionGeometry.transposedConvolution`.
public func transposedConv2d(_ input: Variable, _ weight: Variable, bias: Variable? = nil,
                             geometry: ConvolutionGeometry) -> Variable {
    let product = convolutionInputGradient(input, weight, geometry: geometry)
    return bias.map { product.addingChannelBias($0) } ?? product
}

/// The input gradient of the convolution `geometry` for an output gradient (a transposed convolution).
public func convolutionInputGradient(_ outputGradient: Variable, _ weight: Variable, geometry: ConvolutionGeometry) -> Variable {
    let value = convolutionInputGradient(outputGradient.value, weight.value, geometry: geometry)
    return Variable.record(value, parents: [outputGradient, weight]) { h, _, needs in
        if needs[0] && needs[1] && !GradientRecording.isEnabled {  // one im2col (or reorder) of h serves both
            let (input, weightGradient) = convolvedWithWeightGradient(h.value, weight.value, outputGradient.value, geometry: geometry)
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
