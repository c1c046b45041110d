import Autodiff
@testable import GAN
import Kernels
import NN
import XCTest

final class LossFamilyTests: XCTestCase {
    /// A small smooth critic (tanh hidden layer), so finite differences see no kinks.
    private func smoothCritic(seed: UInt64) -> Sequential {
        var random = RandomSource(seed: seed)
        return Sequential([Dense(inputSize: 2, outputSize: 5, using: &random), Tanh(),
                           Dense(inputSize: 5, outputSize: 1, using: &random)])
    }

    func testPenaltyOfALinearCriticIsExact() {
        var random = RandomSource(seed: 1)
        let critic = Dense(inputSize: 2, outputSize: 1, using: &random)
        critic.weight.value = Tensor(shape: [1, 2], scalars: [3, 4])  // ‖∇D‖ = 5 everywhere
        let points = Tensor.uniform(shape: [7, 2], low: -1, high: 1, using: &random)
        let penalty = gradientPenalty(critic: { critic($0) }, interpolates: points) * 10
        XCTAssertEqual(penalty.value.scalar, 10 * 16, accuracy: 1e-3)
        // d/dw of λ(‖w‖ − 1)² = 2λ(‖w‖ − 1)·w/‖w‖ = 2·10·4·(0.6, 0.8).
        let gradient = gradients(of: penalty, at: [critic.weight.variable])[0]
        XCTAssertEqual(gradient[0], 48, accuracy: 1e-2)
        XCTAssertEqual(gradient[1], 64, accuracy: 1e-2)
    }

    /// The engine's gradient of the penalty (a gradient of a gradient) against finite differences.
    func testGradientPenaltyMatchesFiniteDifferences() {
        for (seed, leaky) in [(UInt64(2), false), (3, true)] {
            var random = RandomSource(seed: seed)
            let critic: Sequential = leaky
                ? Sequential([Dense(inputSize: 2, outputSize: 5, using: &random), LeakyReLU(slope: 0.2),
                              Dense(inputSize: 5, outputSize: 4, using: &random), Tanh(),
                              Dense(inputSize: 4, outputSize: 1, using: &random)])
                : smoothCritic(seed: seed)
            let real = Tensor.uniform(shape: [6, 2], low: -1, high: 1, using: &random)
            let fake = Tensor.uniform(shape: [6, 2], low: -1, high: 1, using: &random)
            let start = random
            checkParameterGradients(critic.parameters, step: leaky ? 2e-3 : 1e-2, tolerance: 3e-2) {
                var draw = start  // the same ε every evaluation
                return gradientPenalty(critic: { critic($0) }, real: real, fake: fake, weight: 1, using: &draw)
            }
        }
    }

    /// On images [N, C, H, W] the norm is over each whole image and ε is one number per image:
    /// the penalty of a linear critic is exact, and a conv critic's matches finite differences.
    func testGradientPenaltyOnImages() {
        var random = RandomSource(seed: 7)
        let linear = Sequential([Flatten(), Dense(inputSize: 2 * 3 * 3, outputSize: 1, using: &random)])
        let weights = (linear.layers[1] as! Dense).weight.value.scalars
        let norm = weights.map { $0 * $0 }.reduce(0, +).squareRoot()
        let images = Tensor.uniform(shape: [4, 2, 3, 3], low: -1, high: 1, using: &random)
        let penalty = gradientPenalty(critic: { linear($0) }, interpolates: images).value.scalar
        XCTAssertEqual(penalty, (norm - 1) * (norm - 1), accuracy: 1e-4)

        let conv = Sequential([Conv2D(inputChannels: 1, outputChannels: 2, kernelSize: 3, stride: 2, padding: .same, using: &random),
                               Tanh(), Flatten(), Dense(inputSize: 2 * 3 * 3, outputSize: 1, using: &random)])
        let real = Tensor.uniform(shape: [3, 1, 5, 5], low: -1, high: 1, using: &random)
        let fake = Tensor.uniform(shape: [3, 1, 5, 5], low: -1, high: 1, using: &random)
        let start = random
        checkParameterGradients(conv.parameters, step: 1e-2, tolerance: 3e-2) {
            var draw = start
            return gradientPenalty(critic: { conv($0) }, real: real, fake: fake, weight: 1, using: &draw)
        }
        // One ε per image: the interpolate of image i lies on the segment between real i and fake i.
        var draw = start
        let epsilon = Tensor.uniform(shape: [3, 1, 1, 1], low: 0, high: 1, using: &draw)
        XCTAssertEqual(epsilon.count, 3)
    }

    func testWassersteinCriticLossGradientAndClipping() {
        let critic = smoothCritic(seed: 4)
        var random = RandomSource(seed: 5)
        let real = Tensor.uniform(shape: [8, 2], low: -1, high: 1, using: &random)
        let fake = Tensor.uniform(shape: [8, 2], low: -1, high: 1, using: &random)
        checkParameterGradients(critic.parameters) { critic(Variable(fake)).mean() - critic(Variable(real)).mean() }

        clipWeights(critic.parameters, to: 0.01)
        for parameter in critic.parameters {
            XCTAssertTrue(parameter.value.scalars.allSatisfy { abs($0) <= 0.01 }, parameter.name)
        }
        let inside = Parameter(name: "w", value: Tensor(shape: [3], scalars: [0.005, -0.02, 0.02]))
        clipWeights([inside], to: 0.01)
        XCTAssertEqual(inside.value.scalars, [0.005, -0.01, 0.01])
        // The clipped critic still has exact gradients (clipping is a projection after the update).
        checkParameterGradients(critic.parameters, step: 1e-3) { critic(Variable(fake)).mean() - critic(Variable(real)).mean() }
    }

    func testMinibatchDiscriminationMatchesFiniteDifferencesAndItsDefinition() {
        // L1 distances have kinks where two samples' kernel entries coincide: pick the first seed whose
        // entries are all at least 0.02 apart, so finite differences of ±5e-4 never cross one.
        var seed: UInt64 = 6, layer: MinibatchDiscrimination, input: Tensor
        repeat {
            var random = RandomSource(seed: seed)
            layer = MinibatchDiscrimination(inputSize: 3, kernels: 2, kernelSize: 4, using: &random)
            input = Tensor.uniform(shape: [5, 3], low: -1, high: 1, using: &random)
            seed += 1
        } while smallestSeparation(matmul(input, layer.tensor.value)) < 0.02
        let output = layer(Variable(input)).value
        XCTAssertEqual(output.shape, [5, 5])
        XCTAssertEqual(layer.outputShape(for: [5, 3]), [5, 5])
        // Features pass through; each closeness sum is Σ_j exp(−‖M_i,b − M_j,b‖₁) with M = f·T.
        let m = matmul(input, layer.tensor.value)
        for i in 0..<5 {
            for feature in 0..<3 { XCTAssertEqual(output[i * 5 + feature], input[i * 3 + feature]) }
            for b in 0..<2 {
                var expected = 0.0
                for j in 0..<5 {
                    let l1 = (0..<4).reduce(0.0) { $0 + Double(abs(m[i * 8 + b * 4 + $1] - m[j * 8 + b * 4 + $1])) }
                    expected += exp(-l1)
                }
                XCTAssertEqual(Double(output[i * 5 + 3 + b]), expected, accuracy: 1e-3)
            }
        }
        var weightingSource = RandomSource(seed: 7)
        let weighting = Tensor.uniform(shape: [5, 5], low: 0.5, high: 1.5, using: &weightingSource)
        let inputParameter = Parameter(name: "input", value: input)
        checkParameterGradients(layer.parameters + [inputParameter], step: 5e-4, tolerance: 3e-2) {
            (layer(inputParameter.variable) * weighting).sum()
        }
    }

    /// The smallest |M[i, k] − M[j, k]| over pairs of rows.
    private func smallestSeparation(_ m: Tensor) -> Float {
        let (n, width) = (m.shape[0], m.shape[1])
        var smallest = Float.infinity
        for i in 0..<n { for j in (i + 1)..<n { for k in 0..<width { smallest = min(smallest, abs(m[i * width + k] - m[j * width + k])) } } }
        return smallest
    }
}
