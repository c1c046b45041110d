import Autodiff
import Kernels

/// Batch normalization over the batch (and, for NCHW input, the spatial axes) of each channel.
/// Training normalises with the batch mean and biased variance and updates the running
/// statistics with Keras's convention, running = momentum·running + (1 − momentum)·batch
/// (PyTorch's `momentum` is 1 − this); inference uses the running statistics.
public final class BatchNormalization: Layer {
    public let weight: Parameter, bias: Parameter
    public let runningMean: Parameter, runningVariance: Parameter
    /// Keras's momentum (0.99 by default; the Fashion-MNIST tutorial uses 0.8).
    public let momentum: Float
    public let epsilon: Float
    /// Whether the running variance takes the unbiased batch variance (PyTorch) or the biased one (Keras).
    public let unbiasedRunningVariance: Bool
    public var isTraining = true
    public let kind = "BatchNormalization"

    public init(featureCount: Int, momentum: Float = 0.99, epsilon: Float = 1e-3, unbiasedRunningVariance: Bool = false) {
        weight = Parameter(name: "weight", value: Tensor(shape: [featureCount], repeating: 1))
        bias = Parameter(name: "bias", value: Tensor(shape: [featureCount]))
        runningMean = Parameter(name: "running_mean", value: Tensor(shape: [featureCount]))
        runningVariance = Parameter(name: "running_var", value: Tensor(shape: [featureCount], repeating: 1))
        self.momentum = momentum
        self.epsilon = epsilon
        self.unbiasedRunningVariance = unbiasedRunningVariance
    }

    public var parameters: [Parameter] { [weight, bias] }
    public var buffers: [Parameter] { [runningMean, runningVariance] }

    public func callAsFunction(_ input: Variable) -> Variable {
        let channels = weight.value.count
        precondition(input.rank >= 2 && input.shape[1] == channels, "BatchNormalization(\(channels)) got \(input.shape)")
        var view = [Int](repeating: 1, count: input.rank)
        view[1] = channels
        guard isTraining else {
            let gamma = weight.variable.reshaped(to: view), beta = bias.variable.reshaped(to: view)
            let inverse = (runningVariance.value + epsilon).squareRoot().mapped { 1 / $0 }.reshaped(to: view)
            return (input - runningMean.value.reshaped(to: view)) * (Variable(inverse) * gamma) + beta
        }
        let (output, statistics) = batchNormalized(input, scale: weight.variable, shift: bias.variable, epsilon: epsilon)
        let (batchMean, batchVariance) = (statistics.mean, statistics.variance)
        let count = Float(input.value.count / channels)
        let correction = unbiasedRunningVariance && count > 1 ? count / (count - 1) : 1
        let keep = momentum
        runningMean.value = runningMean.value * keep + batchMean.reshaped(to: [channels]) * (1 - keep)
        runningVariance.value = runningVariance.value * keep + batchVariance.reshaped(to: [channels]) * ((1 - keep) * correction)
        return output
    }
}

/// Keeps each element with probability 1 − rate and scales it by 1 / (1 − rate) in training
/// (inverted dropout, as Keras and PyTorch); the identity in inference.
public final class Dropout: Layer {
    public let rate: Float
    public var isTraining = true
    public let kind = "Dropout"
    private var random: RandomSource

    /// Where its stream of masks is (a training checkpoint saves and restores it).
    public var randomStream: RandomSource {
        get { random }
        set { random = newValue }
    }

    public init(rate: Float, using random: inout RandomSource) {
        precondition(rate >= 0 && rate < 1, "dropout rate \(rate) outside [0, 1)")
        self.rate = rate
        self.random = random.split()
    }

    public func callAsFunction(_ input: Variable) -> Variable { callAsFunction(input, rectifiedWith: nil) }

    /// Dropout of LeakyReLU(`input`) with slope `negativeSlope` in one pass, forward and back,
    /// with the numbers of the two layers one after the other (the same draws, the same
    /// operations on every element); nil: plain dropout.
    public func callAsFunction(_ input: Variable, rectifiedWith negativeSlope: Float?) -> Variable {
        guard isTraining, rate > 0 else { return negativeSlope.map { input.leakyRelu(slope: $0) } ?? input }
        // The mask's factors are drawn where they are used, from the layer's one stream: the same
        // mask whatever the thread count. x > 0 ? x : 1·x is x to the bit, so plain dropout takes
        // the same loops with slope 1.
        let mask = DropoutMask(rate: rate, shape: input.shape, stream: random)
        random = random.skipping(mask.draws)
        let slope = negativeSlope ?? 1
        let output = input.value.rectifiedDropout(mask, negativeSlope: slope)
        // Plain dropout's pullback takes the gradient as its own sign tensor (slope 1 makes the
        // sign irrelevant), so the input need not be kept.
        let sign = negativeSlope == nil ? nil : input.value
        return Variable.record(output, parents: [input]) { g, _, _ in
            guard GradientRecording.isEnabled else {
                return [Variable(g.value.scaledBySign(of: sign ?? g.value, negativeSlope: slope, times: mask))]
            }
            let masked = g * mask.tensor
            return [sign.map { masked.scaledBySign(of: $0, negativeSlope: slope) } ?? masked]
        }
    }
}
