import Kernels

/// How a layer's weights start.
public enum Initializer: String, CaseIterable {
    /// Keras's default: U(±√(6 / (fanIn + fanOut))).
    case glorotUniform = "glorot-uniform"
    /// He (Kaiming) normal: N(0, 2 / fanIn).
    case heNormal = "he-normal"
    /// The DCGAN convention: N(0, 0.02²).
    case dcgan = "normal-0.02"
    case zeros, ones

    public func make(shape: [Int], fanIn: Int, fanOut: Int, using random: inout RandomSource) -> Tensor {
        switch self {
        case .glorotUniform:
            let limit = Float((6.0 / Double(fanIn + fanOut)).squareRoot())
            return .uniform(shape: shape, low: -limit, high: limit, using: &random)
        case .heNormal:
            return .normal(shape: shape, std: Float((2.0 / Double(fanIn)).squareRoot()), using: &random)
        case .dcgan:
            return .normal(shape: shape, std: 0.02, using: &random)
        case .zeros:
            return Tensor(shape: shape, repeating: 0)
        case .ones:
            return Tensor(shape: shape, repeating: 1)
        }
    }
}
