/// One row of a model summary, as Keras's `summary()` prints it.
public struct SummaryRow: Equatable {
    public let layer: String
    public let outputShape: [Int]
    /// Trainable and non-trainable values together, Keras's "Param #".
    public var parameterCount: Int { trainableCount + nonTrainableCount }
    /// The layer's parameters.
    public let trainableCount: Int
    /// The layer's buffers (BatchNorm's running mean and variance).
    public let nonTrainableCount: Int
}

extension Layer {
    /// Values saved with the layer but not trained (its buffers).
    public var nonTrainableCount: Int { buffers.reduce(0) { $0 + $1.value.count } }
}

extension Sequential {
    /// Layer, output shape (batch dimension included, as given) and parameter counts of each layer.
    public func summary(inputShape: [Int]) -> [SummaryRow] {
        var shape = inputShape
        return layers.map { layer in
            shape = layer.outputShape(for: shape)
            return SummaryRow(layer: layer.kind, outputShape: shape, trainableCount: layer.parameterCount,
                              nonTrainableCount: layer.nonTrainableCount)
        }
    }
}
