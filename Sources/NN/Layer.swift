import Autodiff
import Kernels

/// A trainable tensor with a stable identity: its leaf node is how gradients find it.
public final class Parameter {
    public let name: String
    public var value: Tensor
    let leaf = Node()

    public init(name: String, value: Tensor) {
        self.name = name
        self.value = value
    }

    /// The parameter as a variable of the graph being recorded.
    public var variable: Variable { Variable(value, leaf: leaf) }
}

/// A differentiable function with parameters. Models are plain compositions of layers.
public protocol Layer: AnyObject {
    /// The layer's parameters, named as PyTorch names them within the layer.
    var parameters: [Parameter] { get }
    /// State saved with the parameters but not trained (BatchNorm's running statistics).
    var buffers: [Parameter] { get }
    /// Training mode (batch statistics, dropout) or inference mode.
    var isTraining: Bool { get set }
    /// A short name for model summaries ("Dense", "LeakyReLU").
    var kind: String { get }
    func callAsFunction(_ input: Variable) -> Variable
    /// The output shape for an input shape (batch dimension included).
    func outputShape(for inputShape: [Int]) -> [Int]
}

extension Layer {
    public var parameters: [Parameter] { [] }
    public var buffers: [Parameter] { [] }
    public var isTraining: Bool {
        get { false }
        set {}
    }
    public func outputShape(for inputShape: [Int]) -> [Int] { inputShape }
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }
}

/// Layers applied one after another; parameters are named "index.name" like `nn.Sequential`.
public final class Sequential: Layer {
    public let layers: [Layer]
    public let kind = "Sequential"

    public init(_ layers: [Layer]) { self.layers = layers }

    public var parameters: [Parameter] { layers.flatMap(\.parameters) }

    /// Parameters with their PyTorch-style path names ("0.weight", "0.bias", "2.weight", …).
    public var namedParameters: [(name: String, parameter: Parameter)] {
        layers.enumerated().flatMap { index, layer in layer.parameters.map { ("\(index).\($0.name)", $0) } }
    }

    /// Parameters and buffers with their PyTorch `state_dict` names, in PyTorch's order.
    public var namedTensors: [(name: String, parameter: Parameter)] {
        layers.enumerated().flatMap { index, layer in
            (layer.parameters + layer.buffers).map { ("\(index).\($0.name)", $0) }
        }
    }

    public var buffers: [Parameter] { layers.flatMap(\.buffers) }

    public var isTraining: Bool {
        get { layers.contains { $0.isTraining } }
        set { for layer in layers { layer.isTraining = newValue } }
    }

    /// Runs the layers in order; a Dense followed by LeakyReLU or ReLU runs as one fused op, and
    /// so does a LeakyReLU followed by Dropout.
    public func callAsFunction(_ input: Variable) -> Variable {
        var value = input
        var index = 0
        while index < layers.count {
            if let dense = layers[index] as? Dense, index + 1 < layers.count, let slope = rectifierSlope(layers[index + 1]) {
                value = linear(value, dense.forwardWeight(), bias: dense.bias?.variable, negativeSlope: slope)
                index += 2
            } else if let leaky = layers[index] as? LeakyReLU, index + 1 < layers.count, let dropout = layers[index + 1] as? Dropout {
                value = dropout(value, rectifiedWith: leaky.slope)
                index += 2
            } else {
                value = layers[index](value)
                index += 1
            }
        }
        return value
    }

    public func outputShape(for inputShape: [Int]) -> [Int] {
        layers.reduce(inputShape) { $1.outputShape(for: $0) }
    }
}

/// The negative slope of a ReLU (0) or LeakyReLU layer, nil for other layers.
func rectifierSlope(_ layer: Layer) -> Float? {
    if let leaky = layer as? LeakyReLU { return leaky.slope }
    return layer is ReLU ? 0 : nil
}
