import Autodiff
import NN

/// Multiplies by a constant: the data normalisation wrapped around a lab's networks
/// (the generator's output scaled up to the data, the discriminator's input scaled down).
public final class FixedScale: Layer {
    public let factor: Float
    public let kind = "Scale"
    public init(_ factor: Float) { self.factor = factor }
    public func callAsFunction(_ input: Variable) -> Variable { factor == 1 ? input : input * factor }
}
