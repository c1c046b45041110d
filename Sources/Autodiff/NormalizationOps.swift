import Kernels

/// Batch normalization of `input` [N, C, …] with its batch statistics, scaled by `gamma` [C]
/// and shifted by `beta` [C]; also returns the statistics (for the running averages).
/// The backward pass is one fused kernel; when a graph of the gradient is being recorded
/// (gradients of gradients) it is written with differentiable ops instead.
public func batchNormalized(_ input: Variable, scale gamma: Variable, shift beta: Variable,
                            epsilon: Float) -> (Variable, BatchNormStatistics) {
    let (value, statistics) = input.value.batchNormalized(scale: gamma.value, shift: beta.value, epsilon: epsilon)
    let output = Variable.record(value, parents: [input, gamma, beta]) { g, _, _ in
        if !GradientRecording.isEnabled {
            let (dx, dgamma, dbeta) = g.value.batchNormGradients(input: input.value, scale: gamma.value, statistics: statistics)
            return [Variable(dx), Variable(dgamma), Variable(dbeta)]
        }
        return batchNormPullback(g, input: input, gamma: gamma, epsilon: epsilon)
    }
    return (output, statistics)
}

/// The same gradients as the fused kernel, from differentiable ops.
func batchNormPullback(_ g: Variable, input x: Variable, gamma: Variable, epsilon: Float) -> [Variable?] {
    let axes = [0] + Array(2..<x.rank)
    var view = [Int](repeating: 1, count: x.rank)
    view[1] = x.shape[1]
    let count = Float(x.value.count / x.shape[1])
    let centered = x - x.mean(alongAxes: axes)
    let deviation = ((centered * centered).mean(alongAxes: axes) + epsilon).squareRoot()
    let normalized = centered / deviation
    let biasGradient = g.summed(alongAxes: axes)
    let scaleGradient = (g * normalized).summed(alongAxes: axes)
    let inputGradient = gamma.reshaped(to: view) / deviation
        * (g - biasGradient * (1 / count) - normalized * scaleGradient * (1 / count))
    return [inputGradient, scaleGradient.reshaped(to: [view[1]]), biasGradient.reshaped(to: [view[1]])]
}
