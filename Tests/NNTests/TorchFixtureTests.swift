import Autodiff
import Foundation
import Kernels
import NN
import XCTest

/// The engine against PyTorch's numbers in Tests/Fixtures/torch (see its README for each file).
final class TorchFixtureTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/torch")

    func fixture(_ name: String) throws -> SafeTensors {
        try SafeTensors(contentsOf: Self.folder.appendingPathComponent("\(name).safetensors"))
    }

    func fixtures(_ prefix: String) throws -> [(String, SafeTensors)] {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path)
            .filter { $0.hasPrefix(prefix) && $0.hasSuffix(".safetensors") }.sorted()
        XCTAssertFalse(names.isEmpty, "no fixtures named \(prefix)*")
        return try names.map { ($0, try SafeTensors(contentsOf: Self.folder.appendingPathComponent($0))) }
    }

    /// The README's rule: |ours − ref| ≤ 1e-4 · max(|ref|, 0.01 · max|ref|).
    func assertMatches(_ ours: Tensor, _ reference: Tensor?, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let reference else { return XCTFail("\(what): no reference tensor", file: file, line: line) }
        XCTAssertEqual(ours.shape, reference.shape, what, file: file, line: line)
        guard ours.shape == reference.shape else { return }
        let scale = reference.scalars.map(abs).max() ?? 0
        var worst: (Int, Float) = (-1, 0)
        for (index, (a, b)) in zip(ours.scalars, reference.scalars).enumerated() {
            let excess = a == b ? 0 : abs(a - b) / (1e-4 * max(abs(b), 0.01 * scale))
            if !(excess <= 1) && !(excess <= worst.1) { worst = (index, excess) }
        }
        if worst.0 >= 0 {
            XCTFail("\(what): element \(worst.0) is \(ours[worst.0]), reference \(reference[worst.0]) (\(worst.1)× the allowance)",
                    file: file, line: line)
        }
    }

    /// Runs `layer` on the fixture's input and compares output and every gradient.
    func checkLayer(_ layer: Layer, _ data: SafeTensors, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
        for parameter in layer.parameters + layer.buffers { if let value = data[parameter.name] { parameter.value = value } }
        let input = Variable.leaf(data["input"]!)
        let output = layer(input)
        assertMatches(output.value, data["output"], "\(name) output", file: file, line: line)
        let parameters = layer.parameters
        let grads = gradients(of: (output * data["upstream"]!).sum(), at: [input] + parameters.map(\.variable))
        assertMatches(grads[0], data["grad_input"], "\(name) grad_input", file: file, line: line)
        for (parameter, grad) in zip(parameters, grads.dropFirst()) {
            assertMatches(grad, data["grad_\(parameter.name)"], "\(name) grad_\(parameter.name)", file: file, line: line)
        }
    }

    func integer(_ data: SafeTensors, _ key: String) -> Int { Int(data.metadata[key] ?? "") ?? -1 }

    func testDense() throws {
        var random = RandomSource(seed: 1)
        for (name, data) in try fixtures("dense_") {
            let layer = Dense(inputSize: integer(data, "in_features"), outputSize: integer(data, "out_features"),
                              useBias: data.metadata["bias"] == "true", using: &random)
            checkLayer(layer, data, name)
        }
    }

    /// On both kernel sets: im2col, and oneDNN.
    func testConvolutions() throws {
        for kernels in ProductKernels.allCases {
            try withProductKernels(kernels) { try convolutionsMatch("\(kernels)") }
        }
    }

    private func convolutionsMatch(_ kernels: String) throws {
        var random = RandomSource(seed: 2)
        for (name, data) in try fixtures("conv2d_") {
            let weight = data["weight"]!
            let padding: Padding = data.metadata["padding"] == "keras_same" ? .same
                : .explicit(top: integer(data, "pad_top"), bottom: integer(data, "pad_bottom"),
                            left: integer(data, "pad_left"), right: integer(data, "pad_right"))
            let layer = Conv2D(inputChannels: weight.shape[1], outputChannels: weight.shape[0], kernelSize: weight.shape[2],
                               stride: integer(data, "stride"), padding: padding, useBias: data.metadata["bias"] == "true", using: &random)
            if data.metadata["padding"] == "keras_same" {
                let g = layer.geometry(for: data["input"]!.shape)
                XCTAssertEqual([g.padTop, g.padLeft], [integer(data, "pad_top"), integer(data, "pad_left")], name)
            }
            checkLayer(layer, data, "\(kernels) \(name)")
        }
        for (name, data) in try fixtures("conv_transpose2d_") {
            let weight = data["weight"]!
            let p = integer(data, "torch_padding"), q = integer(data, "torch_output_padding")
            let padding: Padding = data.metadata["padding"] == "keras_same" ? .same : .explicit(top: p, bottom: p - q, left: p, right: p - q)
            let layer = ConvTranspose2D(inputChannels: weight.shape[0], outputChannels: weight.shape[1], kernelSize: weight.shape[2],
                                        stride: integer(data, "stride"), padding: padding, useBias: data.metadata["bias"] == "true",
                                        using: &random)
            checkLayer(layer, data, "\(kernels) \(name)")
        }
    }

    /// `torch.nn.utils.spectral_norm` around Linear, Conv2d and ConvTranspose2d: one training pass
    /// from the same weight, u and v gives the same u, v, σ, output and gradients.
    func testSpectralNormalization() throws {
        var random = RandomSource(seed: 4)
        for name in ["spectral_norm_linear", "spectral_norm_conv2d", "spectral_norm_conv_transpose2d"] {
            let data = try fixture(name)
            let weight = data["weight_orig"]!, bias = data.metadata["bias"] == "true"
            let layer: Layer, spectral: SpectralNormalization
            switch data.metadata["module"] {
            case "Linear":
                let dense = Dense(inputSize: weight.shape[1], outputSize: weight.shape[0], useBias: bias, spectral: true, using: &random)
                (layer, spectral) = (dense, dense.spectralNormalization!)
            case "Conv2d":
                let p = integer(data, "padding")
                let conv = Conv2D(inputChannels: weight.shape[1], outputChannels: weight.shape[0], kernelSize: weight.shape[2],
                                  stride: integer(data, "stride"), padding: .explicit(top: p, bottom: p, left: p, right: p),
                                  useBias: bias, spectral: true, using: &random)
                (layer, spectral) = (conv, conv.spectralNormalization!)
            default:
                let p = integer(data, "padding")
                let deconv = ConvTranspose2D(inputChannels: weight.shape[0], outputChannels: weight.shape[1], kernelSize: weight.shape[2],
                                             stride: integer(data, "stride"), padding: .explicit(top: p, bottom: p, left: p, right: p),
                                             useBias: bias, spectral: true, using: &random)
                (layer, spectral) = (deconv, deconv.spectralNormalization!)
            }
            XCTAssertEqual(spectral.rowAxis, integer(data, "dim"), name)
            for tensor in layer.parameters + layer.buffers { tensor.value = data[tensor.name]! }
            XCTAssertTrue(layer.isTraining)
            let input = Variable.leaf(data["input"]!)
            let output = layer(input)
            assertMatches(output.value, data["output"], "\(name) output")
            assertMatches(spectral.u.value, data["weight_u_updated"], "\(name) weight_u")
            assertMatches(spectral.v.value, data["weight_v_updated"], "\(name) weight_v")
            assertMatches(Tensor(spectral.lastSigma ?? .nan), data["sigma"], "\(name) sigma")
            let parameters = layer.parameters
            let grads = gradients(of: (output * data["upstream"]!).sum(), at: [input] + parameters.map(\.variable))
            assertMatches(grads[0], data["grad_input"], "\(name) grad_input")
            for (parameter, grad) in zip(parameters, grads.dropFirst()) {
                assertMatches(grad, data["grad_\(parameter.name)"], "\(name) grad_\(parameter.name)")
            }
            // Inference mode: the stored (updated) u and v, no further step; the weight torch applied.
            layer.isTraining = false
            let effective = (layer as? Dense)?.effectiveWeight ?? (layer as? Conv2D)?.effectiveWeight ?? (layer as! ConvTranspose2D).effectiveWeight
            assertMatches(effective, data["weight"], "\(name) weight")
            assertMatches(withoutGradients { layer(Variable(data["input"]!)) }.value, data["output"], "\(name) inference output")
            let largest = { (a: Tensor, b: Tensor?) in zip(a.scalars, b!.scalars).map { abs($0 - $1) }.max() ?? 0 }
            print("\(name): max |ours - torch| output \(largest(output.value, data["output"])), "
                  + "sigma \(abs((spectral.lastSigma ?? 0) - data["sigma"]!.scalar)), u \(largest(spectral.u.value, data["weight_u_updated"])), v \(largest(spectral.v.value, data["weight_v_updated"])), "
                  + "grad_input \(largest(grads[0], data["grad_input"])), grad_weight_orig \(largest(grads[1], data["grad_weight_orig"]))"
                  + (bias ? ", grad_bias \(largest(grads[2], data["grad_bias"]))" : ""))
        }
    }

    func testBatchNormalization() throws {
        for (name, data) in try fixtures("batch_norm") {
            let isTorch = name.contains("torch"), training = data.metadata["mode"] == "train"
            let momentum = Float(data.metadata["keras_momentum"] ?? "0.99")!
            let layer = BatchNormalization(featureCount: integer(data, "num_features"), momentum: momentum,
                                           epsilon: Float(data.metadata["eps"]!)!, unbiasedRunningVariance: isTorch)
            layer.isTraining = training
            checkLayer(layer, data, name)
            if training {
                // checkLayer ran the layer twice (forward and recorded); compare one update.
                layer.runningMean.value = data["running_mean"]!
                layer.runningVariance.value = data["running_var"]!
                _ = withoutGradients { layer(Variable(data["input"]!)) }
                assertMatches(layer.runningMean.value, data["running_mean_updated"], "\(name) running_mean")
                assertMatches(layer.runningVariance.value, data[isTorch ? "running_var_updated" : "running_var_updated_keras"],
                              "\(name) running_var")
            }
        }
    }

    func testActivations() throws {
        let layers: [String: Layer] = ["relu": ReLU(), "leaky_relu": LeakyReLU(slope: 0.2), "tanh": Tanh(), "sigmoid": Sigmoid()]
        for (name, layer) in layers { checkLayer(layer, try fixture(name), name) }
        let softplus = try fixture("softplus")
        let input = Variable.leaf(softplus["input"]!)
        let output = input.softplus()
        assertMatches(output.value, softplus["output"], "softplus")
        assertMatches(gradients(of: (output * softplus["upstream"]!).sum(), at: [input])[0], softplus["grad_input"], "softplus grad")
    }

    func testLosses() throws {
        func check(_ name: String, _ loss: (Variable, Tensor) -> Variable) throws {
            let data = try fixture(name)
            let input = Variable.leaf(data["input"]!)
            let value = loss(input, data["target"]!)
            assertMatches(value.value, data["output"], name)
            assertMatches(gradients(of: value, at: [input])[0], data["grad_input"], "\(name) grad")
        }
        for name in ["bce_with_logits_hard", "bce_with_logits_smoothed", "bce_with_logits_noisy"] {
            try check(name) { binaryCrossEntropy(logits: $0, targets: $1) }
        }
        try check("mse") { meanSquaredError($0, $1) }
        try check("hinge") { hingeLoss($0, targets: $1) }
        let data = try fixture("wasserstein")
        let real = Variable.leaf(data["input_real"]!), fake = Variable.leaf(data["input_fake"]!)
        let loss = wassersteinCriticLoss(real: real, fake: fake)
        assertMatches(loss.value, data["output"], "wasserstein")
        let grads = gradients(of: loss, at: [real, fake])
        assertMatches(grads[0], data["grad_input_real"], "wasserstein real")
        assertMatches(grads[1], data["grad_input_fake"], "wasserstein fake")
    }

    func testGradientPenaltyIsAGradientOfAGradient() throws {
        let data = try fixture("gradient_penalty")
        var random = RandomSource(seed: 3)
        let critic = Sequential([Dense(inputSize: 2, outputSize: 8, using: &random), LeakyReLU(slope: 0.2),
                                 Dense(inputSize: 8, outputSize: 8, using: &random), LeakyReLU(slope: 0.2),
                                 Dense(inputSize: 8, outputSize: 1, using: &random)])
        let torchNames = ["0": "fc1", "2": "fc2", "4": "fc3"]
        for (name, parameter) in critic.namedParameters {
            let parts = name.split(separator: ".")
            parameter.value = data["\(torchNames[String(parts[0])]!).\(parts[1])"]!
        }
        let input = Variable.leaf(data["input"]!)
        let penalty = gradientPenalty(critic: { critic($0) }, interpolates: data["input"]!)
        assertMatches(penalty.value, data["output"], "penalty")
        // The same penalty with the input as a leaf, to get its input gradient too.
        let inner = differentiableGradients(of: critic(input).sum(), at: [input])[0]
        assertMatches(inner.value, data["input_gradient"], "input_gradient")
        let norms = (inner * inner).summed(alongAxes: [1]).squareRoot()
        let value = ((norms - 1) * (norms - 1)).mean()
        let grads = gradients(of: value, at: [input] + critic.parameters.map(\.variable))
        assertMatches(grads[0], data["grad_input"], "penalty grad_input")
        for ((name, _), grad) in zip(critic.namedParameters, grads.dropFirst()) {
            let parts = name.split(separator: ".")
            assertMatches(grad, data["grad_\(torchNames[String(parts[0])]!).\(parts[1])"], "penalty grad \(name)")
        }
    }

    /// The penalty of a convolutional critic on [N, C, H, W] images, one ε per image: the norm over
    /// C, H and W, and its gradients of gradients through the convolution.
    func testGradientPenaltyOnImagesMatchesPyTorch() throws {
        let data = try fixture("gradient_penalty_images")
        var random = RandomSource(seed: 4)
        let critic = Sequential([Conv2D(inputChannels: 2, outputChannels: 4, kernelSize: 3, stride: 2,
                                        padding: .explicit(top: 1, bottom: 1, left: 1, right: 1), using: &random),
                                 LeakyReLU(slope: 0.2), Flatten(), Dense(inputSize: 64, outputSize: 1, using: &random)])
        let torchNames = ["0": "conv", "3": "fc"]
        for (name, parameter) in critic.namedParameters {
            let parts = name.split(separator: ".")
            parameter.value = data["\(torchNames[String(parts[0])]!).\(parts[1])"]!.reshaped(to: parameter.value.shape)
        }
        let alpha = data["alpha"]!, real = data["real"]!, fake = data["fake"]!
        let input = data["input"]!
        XCTAssertEqual(input.shape, [6, 2, 8, 8])
        // One ε per image, broadcast over its channels and pixels.
        let mixed = alpha * real + alpha.mapped { 1 - $0 } * fake
        XCTAssertLessThan(zip(mixed.scalars, input.scalars).map { abs($0 - $1) }.max()!, 1e-6)
        assertMatches(critic(Variable.leaf(input)).value, data["critic_output"], "critic_output")
        let penalty = gradientPenalty(critic: { critic($0) }, interpolates: input)
        assertMatches(penalty.value, data["output"], "penalty")
        let point = Variable.leaf(input)
        let inner = differentiableGradients(of: critic(point).sum(), at: [point])[0]
        assertMatches(inner.value, data["input_gradient"], "input_gradient")
        let norms = (inner * inner).summed(alongAxes: [1, 2, 3]).squareRoot()
        assertMatches(norms.value.reshaped(to: [6]), data["gradient_norm"], "gradient_norm")
        let value = ((norms - 1) * (norms - 1)).mean()
        let grads = gradients(of: value, at: [point] + critic.parameters.map(\.variable))
        assertMatches(grads[0], data["grad_input"], "penalty grad_input")
        for ((name, _), grad) in zip(critic.namedParameters, grads.dropFirst()) {
            let parts = name.split(separator: ".")
            let expected = data["grad_\(torchNames[String(parts[0])]!).\(parts[1])"]!
            assertMatches(grad.reshaped(to: expected.shape), expected, "penalty grad \(name)")
        }
    }

    func testOptimizers() throws {
        func run(_ name: String, _ make: ([Parameter], [String: String]) -> Optimizer) throws {
            let data = try fixture(name)
            let parameter = Parameter(name: "param", value: data["param"]!)
            let optimizer = make([parameter], data.metadata)
            for step in 1...3 {
                optimizer.update(with: [data["grad_step\(step)"]!])
                assertMatches(parameter.value, data["param_step\(step)"], "\(name) step \(step)")
            }
        }
        func number(_ metadata: [String: String], _ key: String) -> Float { Float(metadata[key]!)! }
        try run("sgd_momentum") { SGD(parameters: $0, learningRate: number($1, "lr"), momentum: number($1, "momentum")) }
        try run("rmsprop_torch") {
            RMSProp(parameters: $0, learningRate: number($1, "lr"), rho: number($1, "rho"), epsilon: number($1, "eps"))
        }
        try run("rmsprop_keras") {
            RMSProp(parameters: $0, learningRate: number($1, "lr"), rho: number($1, "rho"), epsilon: number($1, "eps"),
                    epsilonInsideRoot: true)
        }
        for convention in [EpsilonConvention.keras, .pytorch] {
            try run(convention == .keras ? "adam_keras" : "adam_torch") {
                Adam(parameters: $0, learningRate: number($1, "lr"), beta1: number($1, "beta1"), beta2: number($1, "beta2"),
                     epsilon: number($1, "eps"), convention: convention)
            }
        }
    }
}
