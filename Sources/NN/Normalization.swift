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

    public func callAsFunction(_ input: Variable) -> Variable {
        guard isTraining, rate > 0 else { return input }
        let keep = 1 - rate, scale = 1 / keep
        // Two 32-bit uniform draws per 64 random bits: element kept when its draw < keep·2³².
        let threshold = UInt64(min(Double(keep) * 0x1p32, 0x1p32))
        let mask = Tensor(uninitializedShape: input.shape), output = Tensor(uninitializedShape: input.shape)
        let count = mask.count, draws = (count + 1) / 2
        let m = SharedPointer(base: mask.storage.pointer), y = SharedPointer(base: output.storage.pointer), x = input.value.storage.pointer
        let start = random
        // Slices of pairs side by side, each from its own place in the one stream: the same
        // mask whatever the thread count.
        forEachSlice(draws, minimumSlice: dropoutSlice) { pairs in
            var stream = start.skipping(pairs.lowerBound)
            fillDropoutMask(m.base, y.base, x, elements: 2 * pairs.lowerBound..<min(2 * pairs.upperBound, count),
                            threshold: threshold, scale: scale, &stream)
        }
        random = start.skipping(draws)
        return Variable.record(output, parents: [input]) { g, _, _ in [g * mask] }
    }
}

/// The fewest random pairs a thread's slice of a dropout mask gets: about 10 µs of work.
let dropoutSlice = 1 << 13

/// For the elements in `range` (starting even): m = `scale` where a 32-bit draw is below
/// `threshold`, else 0, and y = x·m; two draws per 64 random bits. Branch-free: the keep/drop
/// choice is random, so a branch would be mispredicted every third time.
private func fillDropoutMask(_ m: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                             elements range: Range<Int>, threshold: UInt64, scale: Float, _ random: inout RandomSource) {
    @inline(__always) func kept(_ draw: UInt64) -> Float { Float((draw &- threshold) >> 63) * scale }  // draw < 2³²
    var i = range.lowerBound
    while i + 2 <= range.upperBound {
        let bits = random.nextBits()
        m[i] = kept(bits & 0xFFFF_FFFF)
        m[i + 1] = kept(bits >> 32)
        y[i] = x[i] * m[i]
        y[i + 1] = x[i + 1] * m[i + 1]
        i += 2
    }
    if i < range.upperBound {
        m[i] = kept(random.nextBits() & 0xFFFF_FFFF)
        y[i] = x[i] * m[i]
    }
}
