@testable import Kernels
import XCTest

/// Tensors in oneDNN's 16-channel blocked layout (`ChannelBlocks`): the layout itself, the
/// elementwise ops and batch normalisation on it, and the convolutions that read and write it
/// all give the bits of the same op on the plain tensor.
final class ChannelBlocksTests: XCTestCase {
    var random = RandomSource(seed: 31)

    override func tearDown() {
        setPortableInstructionSet(processorFeatures().portableInstructionSets.last!)
        resetMatrixThreads()
    }

    /// Block n·C/16 + j holds channels 16j..<16j+16 of sample n as [P][16]; the plain elements
    /// made from the blocks are the tensor's, on every instruction set.
    func testBlocksHoldThePlainElementsInOneDNNsOrder() {
        for shape in [[2, 16, 3, 5], [3, 32, 7, 7], [1, 48, 1, 1], [40, 64, 14, 14]] {
            let x = Tensor.uniform(shape: shape, low: -1, high: 1, using: &random)
            let (batch, channels, plane) = (shape[0], shape[1], shape[2] * shape[3])
            for set in processorFeatures().portableInstructionSets {
                setPortableInstructionSet(set)
                let blocked = x.inChannelBlocks()
                let blocks = try! XCTUnwrap(blocked.channelBlocks)
                XCTAssertEqual(blocks.count, batch * channels / 16)
                for (n, c, p) in [(0, 0, 0), (batch - 1, channels - 1, plane - 1), (batch / 2, 17 % channels, plane / 2)] {
                    let at = ((n * channels / 16 + c / 16) * plane + p) * 16 + c % 16
                    XCTAssertEqual(blocks.pointer[at], x[(n * channels + c) * plane + p], "\(shape) (\(n), \(c), \(p))")
                }
                XCTAssertEqual(blocked.scalars.map(\.bitPattern), x.scalars.map(\.bitPattern), "\(shape) on \(set.name)")
            }
        }
        XCTAssertNil(Tensor(shape: [2, 8, 3, 3]).inChannelBlocksIfItFits().channelBlocks, "8 channels make no 16-channel block")
    }

    /// A blocked tensor written to becomes a plain copy; the tensor it was copied from keeps its
    /// blocks and its values, and a reshaped view of the blocks is plain.
    func testWritingToABlockedTensorLeavesItsBlocksAlone() {
        let x = Tensor.uniform(shape: [2, 16, 2, 2], low: -1, high: 1, using: &random).inChannelBlocks()
        let before = x.scalars
        var y = x
        y[0] = 42
        XCTAssertNil(y.channelBlocks)
        XCTAssertEqual(y[0], 42)
        XCTAssertNotNil(x.channelBlocks)
        XCTAssertEqual(x.scalars, before)
        XCTAssertNil(x.reshaped(to: [2, 64]).channelBlocks)
        XCTAssertEqual(x.reshaped(to: [2, 64]).scalars, before)
    }

    /// Dropout (forward and pullback), LeakyReLU and its pullback, batch normalisation
    /// (statistics, output, gradients) and channel sums (a bias's gradient) on blocks, or on one blocked operand and one plain, give
    /// the plain ops' bits, in blocks, on every instruction set, on one and two threads.
    func testElementwiseOpsAndBatchNormOnBlocksGiveThePlainBits() {
        for shape in [[3, 16, 5, 7], [4, 32, 7, 7], [2, 48, 1, 1], [64, 64, 14, 14]] {
            let x = Tensor.uniform(shape: shape, low: -2, high: 2, using: &random)
            let g = Tensor.uniform(shape: shape, low: -1, high: 1, using: &random)
            let gamma = Tensor.uniform(shape: [shape[1]], low: 0.5, high: 1.5, using: &random)
            let beta = Tensor.uniform(shape: [shape[1]], low: -1, high: 1, using: &random)
            let mask = DropoutMask(rate: 0.3, shape: shape, stream: random.split())
            func results(_ x: Tensor, _ g: Tensor) -> [Tensor] {
                let (y, statistics) = x.batchNormalized(scale: gamma, shift: beta, epsilon: 1e-3)
                let (dx, dgamma, dbeta) = g.batchNormGradients(input: x, scale: gamma, statistics: statistics)
                return [x.rectifiedDropout(mask, negativeSlope: 0.2), g.scaledBySign(of: x, negativeSlope: 0.2, times: mask),
                        x.leakyRelu(slope: 0.3), g.scaledBySign(of: x, negativeSlope: 0.3),
                        y, statistics.mean, statistics.variance, statistics.inverseDeviation, dx, dgamma, dbeta, g.channelSums()]
            }
            let names = ["dropout", "dropout pullback", "LeakyReLU", "LeakyReLU pullback", "batch norm", "mean", "variance",
                         "inverse deviation", "batch norm pullback", "γ gradient", "β gradient", "channel sums"]
            for set in processorFeatures().portableInstructionSets {
                setPortableInstructionSet(set)
                for threads in [1, 2] {
                    setMatrixThreads(threads)
                    let plain = results(x, g).map { $0.scalars.map(\.bitPattern) }
                    for (xs, gs, layouts) in [(x.inChannelBlocks(), g.inChannelBlocks(), "both in blocks"),
                                              (x.inChannelBlocks(), g, "x in blocks"), (x, g.inChannelBlocks(), "g in blocks")] {
                        let blocked = results(xs, gs)
                        for (index, (result, expected)) in zip(blocked, plain).enumerated() {
                            let name = "\(names[index]) of \(shape), \(layouts), \(set.name), \(threads) threads"
                            XCTAssertEqual(result.scalars.map(\.bitPattern), expected, name)
                            // Ops of x alone (dropout, LeakyReLU, batch norm) are in blocks when x is; ops of g and x when either is.
                            if result.shape == shape, ![0, 2, 4].contains(index) || xs.channelBlocks != nil {
                                XCTAssertNotNil(result.channelBlocks, name)
                            }
                        }
                    }
                }
            }
        }
    }

    /// On oneDNN, a convolution's passes read a blocked operand as it lies and write blocks where
    /// their layout is the 16-channel one, with the bits of the same passes on plain tensors: the
    /// forward pass, the input and weight gradients alone and together, and the transposed
    /// convolution with its weight gradient, at the DCGAN's middle geometries, over several chunks.
    func testConvolutionsOnBlocksGiveThePlainBits() {
        withProductKernels(.fastest) {
            for (inputShape, weightShape, stride) in [([40, 64, 14, 14], [128, 64, 5, 5], 2), ([36, 128, 7, 7], [256, 128, 5, 5], 1),
                                                      ([20, 1, 28, 28], [64, 1, 5, 5], 2)] {
                let g = ConvolutionGeometry.convolution(inputShape: inputShape, weightShape: weightShape, stride: stride, padding: .same)
                guard DNNLChunkedPass(g, .forward) != nil else { return XCTFail("no oneDNN pass for \(g)") }
                let x = Tensor.uniform(shape: g.inputShape, low: -1, high: 1, using: &random)
                let w = Tensor.uniform(shape: g.weightShape, low: -1, high: 1, using: &random)
                let dy = Tensor.uniform(shape: g.outputShape, low: -1, high: 1, using: &random)
                func passes(_ x: Tensor, _ dy: Tensor) -> [Tensor] {
                    let (y, kept) = convolvedKeepingInput(x, w, geometry: g)
                    let (dx, dw) = convolutionGradients(x, kept: kept, w, dy, geometry: g)
                    let (transposed, keptGradient) = convolutionInputGradientKeeping(dy, w, geometry: g)
                    let (again, dwTransposed) = convolvedWithWeightGradient(x, w, dy, keptOutputGradient: keptGradient, geometry: g)
                    return [y, dx, dw, convolutionWeightGradient(x, dy, geometry: g), convolutionInputGradient(dy, w, geometry: g),
                            transposed, again, dwTransposed]
                }
                let plain = passes(x, dy).map { $0.scalars.map(\.bitPattern) }
                let inBlocks = [x, dy].map { ChannelBlocks.fits($0.shape) ? $0.inChannelBlocks() : $0 }
                let blocked = passes(inBlocks[0], inBlocks[1])
                for (index, (result, expected)) in zip(blocked, plain).enumerated() {
                    XCTAssertEqual(result.scalars.map(\.bitPattern), expected, "pass \(index) of \(inputShape) * \(weightShape)")
                }
                // The forward pass of the blocked geometries writes blocks where oneDNN picks the 16-channel layout (AVX-512).
                if let pass = DNNLChunkedPass(g, .forward), pass.full.destination.isChannelBlocked {
                    XCTAssertNotNil(blocked[0].channelBlocks, "\(inputShape) * \(weightShape)")
                }
            }
        }
    }
}

extension Tensor {
    /// `inChannelBlocks()` where the shape has blocks, else the tensor itself.
    func inChannelBlocksIfItFits() -> Tensor { ChannelBlocks.fits(shape) ? inChannelBlocks() : self }
}
