import Autodiff

/// max(x, 0).
public final class ReLU: Layer {
    public let kind = "ReLU"
    public init() {}
    public func callAsFunction(_ input: Variable) -> Variable { input.relu() }
}

/// x for x > 0, slope·x otherwise (Keras's default slope in GANs: 0.2).
public final class LeakyReLU: Layer {
    public let slope: Float
    public let kind = "LeakyReLU"
    public init(slope: Float = 0.2) { self.slope = slope }
    public func callAsFunction(_ input: Variable) -> Variable { input.leakyRelu(slope: slope) }
}

/// Hyperbolic tangent, the usual generator output in [-1, 1].
public final class Tanh: Layer {
    public let kind = "Tanh"
    public init() {}
    public func callAsFunction(_ input: Variable) -> Variable { input.tanh() }
}

/// 1 / (1 + e⁻ˣ).
public final class Sigmoid: Layer {
    public let kind = "Sigmoid"
    public init() {}
    public func callAsFunction(_ input: Variable) -> Variable { input.sigmoid() }
}
