import Kernels
import NN

/// An exponential moving average of a model's parameters: avg ← decay·avg + (1 − decay)·θ after
/// each update. Sampling a GAN's generator from its averaged weights lands in the middle of the
/// oscillation the adversarial game keeps up (Yazıcı et al. 2019), instead of wherever it stopped.
public final class ParameterAverage {
    public let decay: Float
    public let parameters: [Parameter]
    private var averages: [Tensor]

    /// Starts the average at the parameters' current values.
    public init(parameters: [Parameter], decay: Float) {
        precondition((0..<1).contains(decay), "an average's decay is in [0, 1), got \(decay)")
        self.parameters = parameters
        self.decay = decay
        averages = parameters.map(\.value)
    }

    /// Folds the parameters' current values into the average.
    public func update() {
        let keep = decay, take = 1 - decay
        for index in parameters.indices {
            let current = parameters[index].value
            averages[index].withUnsafeMutableBufferPointer { average in
                current.withUnsafeBufferPointer { value in
                    for i in 0..<average.count { average[i] = keep * average[i] + take * value[i] }
                }
            }
        }
    }

    /// Runs `body` with the averaged values in place of the parameters, then puts them back.
    public func withAveragedParameters<Result>(_ body: () throws -> Result) rethrows -> Result {
        let trained = parameters.map(\.value)
        for (parameter, average) in zip(parameters, averages) { parameter.value = average }
        defer { for (parameter, value) in zip(parameters, trained) { parameter.value = value } }
        return try body()
    }
}
