import Autodiff
import Kernels
import NN
import XCTest

final class PrimitiveGradientTests: XCTestCase {
    var random = RandomSource(seed: 5)

    func testArithmeticWithBroadcasting() {
        let a = Tensor.uniform(shape: [3, 4], low: -2, high: 2, using: &random)
        let row = Tensor.uniform(shape: [4], low: -2, high: 2, using: &random)
        let column = Tensor.uniform(shape: [3, 1], low: 1, high: 2, using: &random)
        checkGradients([a, row]) { $0[0] + $0[1] }
        checkGradients([a, row]) { $0[0] - $0[1] }
        checkGradients([a, column]) { $0[0] * $0[1] }
        checkGradients([a, column]) { $0[0] / $0[1] }
        checkGradients([a]) { -$0[0] * 3 + 1 }
        checkGradients([row]) { $0[0].broadcasted(to: [2, 4]) }
        checkGradients([a]) { $0[0].summed(toShape: [1, 4]) }
    }

    func testActivations() {
        let x = awayFromZero([5, 3], using: &random)
        checkGradients([x]) { $0[0].relu() }
        checkGradients([x]) { $0[0].leakyRelu(slope: 0.2) }
        checkGradients([x]) { $0[0].tanh() }
        checkGradients([x]) { $0[0].sigmoid() }
        checkGradients([x]) { $0[0].softplus() }
        checkGradients([x], step: 1e-3) { $0[0].exp() }
        checkGradients([x.mapped { abs($0) + 0.5 }], step: 1e-3) { $0[0].log() }
    }

    func testReductionsAndShapes() {
        let x = Tensor.uniform(shape: [2, 3, 4], low: -1, high: 1, using: &random)
        checkGradients([x]) { $0[0].sum() }
        checkGradients([x]) { $0[0].mean() }
        checkGradients([x]) { $0[0].summed(alongAxes: [0, 2]) }
        checkGradients([x]) { $0[0].reshaped(to: [6, 4]) }
    }

    func testMatrixProductWithEveryTransposition() {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = Tensor.uniform(shape: ta ? [4, 3] : [3, 4], low: -1, high: 1, using: &random)
            let b = Tensor.uniform(shape: tb ? [5, 4] : [4, 5], low: -1, high: 1, using: &random)
            checkGradients([a, b]) { matmul($0[0], $0[1], transposeA: ta, transposeB: tb) }
        }
    }

    func testBinaryCrossEntropyFromLogits() {
        let logits = Tensor.uniform(shape: [6, 1], low: -4, high: 4, using: &random)
        let targets = Tensor.uniform(shape: [6, 1], low: -0.1, high: 1.1, using: &random)
        checkGradients([logits]) { binaryCrossEntropy(logits: $0[0], targets: targets) }
        // The stable form equals the textbook one where the latter is finite.
        let p = logits.sigmoid()
        let textbook = zip(p.scalars, targets.scalars).map { -(Double($1) * log(Double($0)) + (1 - Double($1)) * log(1 - Double($0))) }
        XCTAssertEqual(Double(binaryCrossEntropy(logits: Variable(logits), targets: targets).value.scalar),
                       textbook.reduce(0, +) / 6, accuracy: 1e-5)
        XCTAssertEqual(binaryCrossEntropy(logits: Variable(Tensor(shape: [1, 1], repeating: 200)),
                                          targets: Tensor(shape: [1, 1], repeating: 1)).value.scalar, 0, accuracy: 1e-6)
    }

    /// The loss is one recorded operation with the bits of the five it stands for (softplus,
    /// product, difference, sum, scale), its plain gradient too; the recorded gradient (for
    /// gradients of gradients) is theirs.
    func testBinaryCrossEntropyIsItsFiveOperationsBitForBit() {
        var logits = Tensor.uniform(shape: [257, 1], low: -30, high: 30, using: &random).scalars
        logits[0 ..< 4] = [0, -0.0, 200, -200]
        let x = Tensor(shape: [257, 1], scalars: logits)
        for targets in [Tensor(shape: [257, 1], repeating: 1), Tensor(shape: [257, 1]),
                        Tensor.uniform(shape: [257, 1], low: -0.1, high: 1.1, using: &random)] {
            let (fusedLeaf, plainLeaf) = (Variable.leaf(x), Variable.leaf(x))
            let fused = binaryCrossEntropy(logits: fusedLeaf * 3, targets: targets) * 0.7
            let y = plainLeaf * 3
            let plain = (y.softplus() - y * targets).mean() * 0.7
            XCTAssertEqual(fused.value.scalar.bitPattern, plain.value.scalar.bitPattern)
            XCTAssertEqual(gradients(of: fused, at: [fusedLeaf])[0].scalars.map(\.bitPattern),
                           gradients(of: plain, at: [plainLeaf])[0].scalars.map(\.bitPattern))
            let recorded = differentiableGradients(of: fused, at: [fusedLeaf])[0].value.scalars
            let plainRecorded = differentiableGradients(of: plain, at: [plainLeaf])[0].value.scalars
            XCTAssertEqual(recorded.map(\.bitPattern), plainRecorded.map(\.bitPattern))
        }
    }

    func testReusedValuesAccumulateGradients() {
        let x = Tensor.uniform(shape: [4], low: -1, high: 1, using: &random)
        checkGradients([x]) { v in v[0] * v[0] + v[0].tanh() * v[0] }
        let leaf = Variable.leaf(Tensor(shape: [1], scalars: [3]))
        XCTAssertEqual(gradients(of: (leaf * leaf * leaf).sum(), at: [leaf])[0].scalars, [27])
    }

    func testDetachedAndUnrecordedValuesCarryNoGradient() {
        let leaf = Variable.leaf(Tensor(shape: [2], scalars: [1, 2]))
        XCTAssertEqual(gradients(of: (leaf.detached() * leaf).sum(), at: [leaf])[0].scalars, [1, 2])
        let unrecorded = withoutGradients { (leaf * leaf).sum() }
        XCTAssertTrue(unrecorded.isConstant)
    }

    func testSecondOrderThroughDenseAndLeakyReLU() {
        // penalty(W) = ‖∂/∂x Σ D(x)‖² for D = Dense → LeakyReLU → Dense, differentiated in W.
        var random = RandomSource(seed: 11)
        let x = awayFromZero([3, 2], using: &random)
        let w1 = Tensor.uniform(shape: [4, 2], low: -1, high: 1, using: &random)
        let w2 = Tensor.uniform(shape: [1, 4], low: -1, high: 1, using: &random)
        checkGradients([w1, w2], step: 1e-3, tolerance: 2e-2) { weights in
            let input = Variable.leaf(x)
            let hidden = matmul(input, weights[0], transposeB: true).leakyRelu(slope: 0.2).tanh()
            let critic = matmul(hidden, weights[1], transposeB: true).sum()
            let inputGradient = differentiableGradients(of: critic, at: [input])[0]
            return (inputGradient * inputGradient).sum()
        }
    }
}
