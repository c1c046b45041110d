/// One row of a model summary, as Keras's `summary()` prints it.
public struct SummaryRow: Equatable {
    public let layer: String
    public let outputShape: [Int]
    public let parameterCount: Int
}

extension Sequential {
    /// Layer, output shape (batch dimension shown as nil) and parameter count of each layer.
    public func summary(inputShape: [Int]) -> [SummaryRow] {
        var shape = inputShape
        return layers.map { layer in
            shape = layer.outputShape(for: shape)
            return SummaryRow(layer: layer.kind, outputShape: shape, parameterCount: layer.parameterCount)
        }
    }
}
