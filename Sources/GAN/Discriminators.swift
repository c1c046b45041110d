import Kernels
import NN

extension Architecture {
    /// The discriminator with a minibatch-discrimination layer before its last Dense layer, which
    /// then reads the features and the `kernels` closeness sums ([n, A] → [n, A + B] → … → 1).
    /// Weights are drawn in layer order: the trunk, the minibatch layer, then the head.
    public func buildWithMinibatchDiscrimination(kernels: Int, kernelSize: Int, using random: inout RandomSource) -> Sequential {
        guard let last = layers.lastIndex(where: { if case .dense = $0 { return true } else { return false } }),
              layers[..<last].contains(where: { if case .dense = $0 { return true } else { return false } }) else {
            preconditionFailure("minibatch discrimination needs a hidden Dense layer before the output")
        }
        let trunk = Architecture(inputShape: inputShape, layers: Array(layers[..<last]),
                                 spectralLayers: spectralLayers.filter { $0 < last })
        let features = trunk.build(using: &random).layers
        precondition(trunk.outputShape.count == 1, "minibatch discrimination reads a vector, not \(trunk.outputShape)")
        let layer = MinibatchDiscrimination(inputSize: trunk.outputSize, kernels: kernels, kernelSize: kernelSize, using: &random)
        let head = Architecture(inputShape: [trunk.outputSize + kernels], layers: Array(layers[last...]),
                                spectralLayers: Set(spectralLayers.filter { $0 >= last }.map { $0 - last })).build(using: &random).layers
        return Sequential(features + [layer] + head)
    }
}
