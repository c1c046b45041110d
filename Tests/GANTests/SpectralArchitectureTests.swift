import Autodiff
import Data
@testable import GAN
import Kernels
import NN
import XCTest

/// The grammar's `spectral` option: where it may go, what it builds, how it prints back, and the
/// errors around it; a spectrally normalised critic in the training loop.
final class SpectralArchitectureTests: XCTestCase {
    func testSpectralOnDenseConvAndDeconv() throws {
        let text = "1x8x8 -> conv 4 4x4 stride 2 same spectral -> leaky -> flatten -> dense 16 spectral leaky 0.1 "
            + "-> 64 spectral relu -> reshape 4x4x4 -> deconv 2 4x4 stride 2 same nobias spectral -> tanh"
        let architecture = try Architecture(parsing: text)
        XCTAssertEqual(architecture.spectralLayers, [0, 3, 5, 8])
        XCTAssertEqual(architecture.description,
                       "1x8x8 -> conv 4 4x4 stride 2 same spectral -> leaky -> flatten -> 16 spectral leaky(0.1) "
                       + "-> 64 spectral relu -> reshape 4x4x4 -> deconv 2 4x4 stride 2 same nobias spectral -> tanh")
        XCTAssertEqual(try Architecture(parsing: architecture.description), architecture)
        XCTAssertEqual(try Architecture(parsing: architecture.description).description, architecture.description)
        // The same layers without spectral normalisation are another network.
        XCTAssertNotEqual(try Architecture(parsing: text.replacingOccurrences(of: " spectral", with: "")), architecture)

        var random = RandomSource(seed: 41)
        let network = architecture.build(using: &random)
        let spectral = network.layers.map { layer -> Bool in
            switch layer {
            case let dense as Dense: return dense.spectralNormalization != nil
            case let conv as Conv2D: return conv.spectralNormalization != nil
            case let deconv as ConvTranspose2D: return deconv.spectralNormalization != nil
            default: return false
            }
        }
        XCTAssertEqual(spectral, [true, false, false, true, false, true, false, false, true, false])
        XCTAssertEqual(network.layers[8].parameters.map(\.name), ["weight_orig"])
        XCTAssertEqual(network.layers[8].buffers.map(\.name), ["weight_u", "weight_v"])
        // u and v are buffers: Keras-style totals count them, trainable counts do not.
        let rows = network.summary(inputShape: [1, 1, 8, 8])
        XCTAssertEqual(rows.map(\.nonTrainableCount), [4 + 16, 0, 0, 16 + 64, 0, 64 + 16, 0, 0, 2 + 64, 0])
        XCTAssertEqual(network.parameterCount, (4 * 16 + 4) + (64 * 16 + 16) + (16 * 64 + 64) + 4 * 2 * 16)
        XCTAssertEqual(network(Variable(Tensor(shape: [2, 1, 8, 8], repeating: 0.5))).shape, [2, 2, 8, 8])
    }

    /// A layer made in code carries its flag in `spectralLayers`; flags on layers without a weight are dropped.
    func testSpectralLayersMadeInCode() throws {
        var architecture = Architecture(inputShape: [2], layers: [.dense(width: 4, bias: true), .activation(.relu),
                                                                  .dense(width: 1, bias: false)], spectralLayers: [0, 1, 2])
        XCTAssertEqual(architecture.spectralLayers, [0, 2])
        XCTAssertEqual(architecture.description, "2 -> 4 spectral relu -> dense 1 nobias spectral")
        XCTAssertEqual(try Architecture(parsing: architecture.description), architecture)
        architecture.layers.removeLast()
        XCTAssertEqual(architecture.spectralLayers, [0])
        XCTAssertEqual(Architecture.text(of: .flatten, spectral: true), "flatten")
    }

    /// The minibatch-discrimination build keeps each layer's flag on both sides of the inserted layer.
    func testMinibatchDiscriminationKeepsSpectralLayers() throws {
        var random = RandomSource(seed: 42)
        let network = try Architecture(parsing: "2 -> 16 spectral leaky -> 8 relu -> dense 1 spectral")
            .buildWithMinibatchDiscrimination(kernels: 5, kernelSize: 3, using: &random)
        XCTAssertEqual(network.namedTensors.map(\.name).filter { $0.hasSuffix("weight_u") }, ["0.weight_u", "5.weight_u"])
    }

    /// The hinge loss and WGAN-GP (a gradient of a gradient through W / σ) train a spectral critic:
    /// finite losses, u moves each pass, and each layer's W / σ has a largest singular value near 1.
    func testSpectralCriticTrainsWithHingeAndGradientPenalty() throws {
        for loss in [LossFamily.hinge, .wassersteinGradientPenalty(weight: 10)] {
            var random = RandomSource(seed: 43)
            let generator = try Architecture(parsing: "4 -> 16 relu -> 2").build(using: &random)
            let discriminator = try Architecture(parsing: "2 -> 16 spectral leaky -> 16 spectral leaky -> 1 spectral").build(using: &random)
            var configuration = GANConfiguration()
            configuration.loss = loss
            configuration.batchSize = 16
            let gan = GANTrainer(generator: generator, discriminator: discriminator, latentSize: 4, configuration: configuration)
            let first = try XCTUnwrap((discriminator.layers[0] as? Dense)?.spectralNormalization)
            let u = first.u.value.scalars
            var metrics = StepMetrics()
            for _ in 0..<20 { gan.round(realBatch: { GaussianMixture.ring().sample(count: $0, using: &$1) }, into: &metrics, using: &random) }
            XCTAssertTrue(metrics.discriminatorLoss.isFinite && metrics.generatorLoss.isFinite, "\(loss)")
            XCTAssertNotEqual(first.u.value.scalars, u, "\(loss)")
            for case let dense as Dense in discriminator.layers {
                let normalization = try XCTUnwrap(dense.spectralNormalization)
                let stored = normalization.sigma(of: dense.weight.value)  // σ from the stored u and v
                for _ in 0..<200 { _ = withoutGradients { dense(Variable(Tensor(shape: [1, dense.inputSize]))) } }  // u, v converge
                let largest = try XCTUnwrap(normalization.lastSigma)  // W's largest singular value
                XCTAssertEqual(largest / stored, 1, accuracy: 0.05, "\(loss): the largest singular value of W / σ")
            }
        }
    }

    func testSpectralErrorsAreOneClearLine() throws {
        let cases: [(String, String, Int)] = [
            ("1x8x8 -> conv 4 4x4 spectrl -> flatten -> 1",
             "layer \"conv 4 4x4 spectrl\": unexpected \"spectrl\" (expected stride N, same, valid, nobias or spectral, as in conv 64 5x5 stride 2 same)", 9),
            ("1x8x8 -> conv 4 4x4 spectral spectral -> flatten -> 1", "layer \"conv 4 4x4 spectral spectral\": spectral is given twice", 9),
            ("2 -> 8 spectral spectral -> 1", "layer \"8 spectral spectral\": spectral is given twice", 5),
            ("2 -> 8 relu spectral -> 1",
             "layer \"8 relu spectral\": spectral comes right after the width (and nobias), before the activation: dense 8 spectral relu", 5),
            ("2 -> 8 -> relu spectral -> 1", "layer \"relu spectral\": spectral normalisation applies to dense, conv and deconv layers only", 10),
            ("2 -> batchnorm spectral -> 1", "layer \"batchnorm spectral\": spectral normalisation applies to dense, conv and deconv layers only", 5),
            ("2 -> spectral 8 -> 1",
             "layer \"spectral 8\": spectral goes after the layer it normalises, as in dense 256 spectral or conv 64 4x4 stride 2 same spectral", 5),
        ]
        for (text, message, offset) in cases {
            do {
                _ = try Architecture(parsing: text)
                XCTFail("\(text) parsed")
            } catch let error as ArchitectureError {
                XCTAssertEqual(error.description, message, text)
                XCTAssertFalse(error.description.contains("\n"), text)
                XCTAssertEqual(error.offset, offset, text)
            }
        }
    }
}
