import Kernels
import NN

extension Architecture {
    /// The discriminator with a minibatch-discrimination layer before its last Dense layer, which
    /// then reads the features and the `kernels` closeness sums ([n, A] → [n, A + B] → … → 1).
    public func buildWithMinibatchDiscrimination(kernels: Int, kernelSize: Int, using random: inout RandomSource) -> Sequential {
        precondition(blocks.count >= 2, "minibatch discrimination needs a hidden layer before the output")
        var trunk = self
        trunk.blocks.removeLast()
        let features = trunk.build(using: &random).layers
        let layer = MinibatchDiscrimination(inputSize: trunk.outputSize, kernels: kernels, kernelSize: kernelSize, using: &random)
        let head = Architecture(inputSize: trunk.outputSize + kernels, blocks: [blocks.last!]).build(using: &random).layers
        return Sequential(features + [layer] + head)
    }
}
