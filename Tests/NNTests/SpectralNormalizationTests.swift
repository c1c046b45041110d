import Autodiff
import Foundation
import Kernels
import NN
import XCTest

/// Spectral normalisation of Dense, Conv2D and ConvTranspose2D: gradients against finite
/// differences (first and second order), σ, the power iteration's modes, names and buffers.
/// PyTorch's numbers are in TorchFixtureTests.
final class SpectralNormalizationTests: XCTestCase {
    private func layers(using random: inout RandomSource) -> [(Layer, Tensor)] {
        [(Dense(inputSize: 5, outputSize: 4, spectral: true, using: &random), Tensor.normal(shape: [3, 5], using: &random)),
         (Conv2D(inputChannels: 2, outputChannels: 3, kernelSize: 3, stride: 2, padding: .same, spectral: true, using: &random),
          Tensor.normal(shape: [2, 2, 5, 5], using: &random)),
         (ConvTranspose2D(inputChannels: 3, outputChannels: 2, kernelSize: 3, stride: 2, padding: .same, spectral: true,
                          using: &random), Tensor.normal(shape: [2, 3, 3, 3], using: &random))]
    }

    private func normalization(_ layer: Layer) -> SpectralNormalization {
        switch layer {
        case let dense as Dense: return dense.spectralNormalization!
        case let conv as Conv2D: return conv.spectralNormalization!
        case let deconv as ConvTranspose2D: return deconv.spectralNormalization!
        default: preconditionFailure("\(layer.kind) has no weight")
        }
    }

    /// In inference mode u and v stay fixed, so W / σ(W) is a plain function of the weight that
    /// finite differences can check (training mode differentiates the same formula, with the u and
    /// v of that pass as constants).
    func testGradientsMatchFiniteDifferencesWithUAndVFixed() {
        var random = RandomSource(seed: 31)
        for (layer, input) in layers(using: &random) {
            for _ in 0..<3 { _ = withoutGradients { layer(Variable(input)) } }  // training: u and v move toward W's top pair
            layer.isTraining = false
            checkLayerGradients(layer, input: input, step: 1e-2, tolerance: 2e-2)
        }
    }

    /// WGAN-GP differentiates ‖∂D/∂x‖² in the weights: a gradient of a gradient through W / σ.
    func testGradientOfTheInputGradientMatchesFiniteDifferences() {
        var random = RandomSource(seed: 32)
        for (layer, input) in layers(using: &random) {
            _ = withoutGradients { layer(Variable(input)) }
            layer.isTraining = false
            let weighting = withoutGradients { Tensor.uniform(shape: layer(Variable(input)).shape, low: 0.5, high: 1.5, using: &random) }
            func penalty() -> Variable {
                let x = Variable.leaf(input)
                let inner = differentiableGradients(of: (layer(x) * weighting).sum(), at: [x])[0]
                return (inner * inner).sum()
            }
            let weight = layer.parameters[0]
            XCTAssertEqual(weight.name, "weight_orig")
            let analytic = gradients(of: penalty(), at: [weight.variable])[0]
            let step: Float = 1e-2
            for element in 0..<weight.value.count {
                let saved = weight.value[element]
                weight.value[element] = saved + step
                let plus = Double(penalty().value.scalar)
                weight.value[element] = saved - step
                let minus = Double(penalty().value.scalar)
                weight.value[element] = saved
                let numeric = Float((plus - minus) / Double(2 * step))
                XCTAssertEqual(analytic[element], numeric, accuracy: 2e-2 * max(1, abs(numeric)), "\(layer.kind) element \(element)")
            }
        }
    }

    /// Power iteration finds the largest singular value: diag(3, 1, 0.5) gives σ = 3.
    func testSigmaIsTheLargestSingularValue() throws {
        var random = RandomSource(seed: 33)
        let dense = Dense(inputSize: 3, outputSize: 3, useBias: false, spectral: true, using: &random)
        dense.weight.value = Tensor(shape: [3, 3], scalars: [3, 0, 0, 0, 1, 0, 0, 0, 0.5])
        for _ in 0..<40 { _ = withoutGradients { dense(Variable(Tensor(shape: [1, 3]))) } }
        let sigma = try XCTUnwrap(dense.spectralNormalization?.lastSigma)
        XCTAssertEqual(sigma, 3, accuracy: 1e-4)
        for (ours, expected) in zip(dense.effectiveWeight.scalars, [1, 0, 0, 0, 1 / 3, 0, 0, 0, 0.5 / 3] as [Float]) {
            XCTAssertEqual(ours, expected, accuracy: 1e-4)
        }
        XCTAssertEqual(dense.spectralNormalization!.sigma(of: dense.weight.value), 3, accuracy: 1e-4)
    }

    /// Training mode takes one power-iteration step a forward pass; inference mode none.
    func testPowerIterationRunsOnlyInTraining() {
        var random = RandomSource(seed: 34)
        for (layer, input) in layers(using: &random) {
            let spectral = normalization(layer)
            XCTAssertTrue(layer.isTraining)
            let (u0, v0) = (spectral.u.value, spectral.v.value)
            _ = withoutGradients { layer(Variable(input)) }
            XCTAssertNotEqual(spectral.u.value.scalars, u0.scalars, layer.kind)
            XCTAssertNotEqual(spectral.v.value.scalars, v0.scalars, layer.kind)
            XCTAssertEqual(spectral.u.value.scalars.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-5)
            layer.isTraining = false
            let (u1, v1) = (spectral.u.value, spectral.v.value)
            let first = withoutGradients { layer(Variable(input)) }, second = withoutGradients { layer(Variable(input)) }
            XCTAssertEqual(spectral.u.value.scalars, u1.scalars, layer.kind)
            XCTAssertEqual(spectral.v.value.scalars, v1.scalars, layer.kind)
            XCTAssertEqual(first.value.scalars, second.value.scalars, layer.kind)
        }
        // Without spectral normalisation a layer has no mode, as before.
        let plain = Dense(inputSize: 2, outputSize: 2, using: &random)
        plain.isTraining = true
        XCTAssertFalse(plain.isTraining)
    }

    /// A fused Dense + LeakyReLU in a Sequential uses W / σ too, with one power-iteration step a pass.
    func testSequentialFusedDenseUsesTheNormalizedWeight() {
        var random = RandomSource(seed: 35)
        let dense = Dense(inputSize: 4, outputSize: 3, spectral: true, using: &random)
        dense.bias!.value = Tensor.normal(shape: [3], using: &random)
        let model = Sequential([dense, LeakyReLU(slope: 0.2)])
        let input = Tensor.normal(shape: [5, 4], using: &random)
        let saved = dense.spectralNormalization!.u.value
        let fused = withoutGradients { model(Variable(input)) }.value
        let stepped = dense.spectralNormalization!.u.value
        dense.spectralNormalization!.u.value = saved
        let apart = withoutGradients { dense(Variable(input)).leakyRelu(slope: 0.2) }.value
        XCTAssertEqual(dense.spectralNormalization!.u.value.scalars, stepped.scalars, "one step a pass either way")
        XCTAssertEqual(fused.scalars, apart.scalars)
    }

    /// u and v are buffers named as PyTorch's state_dict; they are not trainable parameters.
    func testNamesBuffersAndCheckpoints() throws {
        var random = RandomSource(seed: 36)
        let model = Sequential([Conv2D(inputChannels: 1, outputChannels: 4, kernelSize: 3, spectral: true, using: &random), LeakyReLU(),
                                Flatten(), Dense(inputSize: 4, outputSize: 1, useBias: false, spectral: true, using: &random),
                                Reshape([1, 1, 1]), ConvTranspose2D(inputChannels: 1, outputChannels: 2, kernelSize: 3, spectral: true, using: &random)])
        XCTAssertEqual(model.namedTensors.map(\.name), ["0.weight_orig", "0.bias", "0.weight_u", "0.weight_v",
                                                        "3.weight_orig", "3.weight_u", "3.weight_v",
                                                        "5.weight_orig", "5.bias", "5.weight_u", "5.weight_v"])
        XCTAssertEqual(model.namedTensors.map(\.parameter.value.shape), [[4, 1, 3, 3], [4], [4], [9], [1, 4], [1], [4],
                                                                          [1, 2, 3, 3], [2], [2], [9]])
        XCTAssertEqual(model.parameterCount, 36 + 4 + 4 + 18 + 2)
        XCTAssertEqual(model.layers[0].nonTrainableCount, 4 + 9)
        XCTAssertEqual(model.summary(inputShape: [1, 1, 3, 3]).map(\.nonTrainableCount), [13, 0, 0, 5, 0, 11])
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("spectral-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Checkpoint(model: model).save(to: url)
        let saved = model.buffers.map(\.value.scalars)
        model.isTraining = true
        _ = withoutGradients { model(Variable(Tensor.normal(shape: [2, 1, 3, 3], using: &random))) }
        XCTAssertNotEqual(model.buffers.map(\.value.scalars), saved)
        try Checkpoint(model: model).load(from: url)
        XCTAssertEqual(model.buffers.map(\.value.scalars), saved)
    }
}
