import Autodiff
import Kernels
import XCTest

/// Compares the engine's gradients of sum(f(inputs) · w), for a fixed random weighting w,
/// with central finite differences on every input element.
func checkGradients(_ inputs: [Tensor], step: Float = 1e-2, tolerance: Float = 1e-2, seed: UInt64 = 9,
                    file: StaticString = #filePath, line: UInt = #line, _ f: ([Variable]) -> Variable) {
    var random = RandomSource(seed: seed)
    let probe = f(inputs.map(Variable.init))
    let weighting = Tensor.uniform(shape: probe.shape, low: 0.5, high: 1.5, using: &random)
    func loss(_ values: [Tensor]) -> Double {
        let output = f(values.map(Variable.init)).value
        return zip(output.scalars, weighting.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
    let leaves = inputs.map(Variable.leaf)
    let analytic = gradients(of: (f(leaves) * weighting).sum(), at: leaves)
    for (index, input) in inputs.enumerated() {
        XCTAssertEqual(analytic[index].shape, input.shape, file: file, line: line)
        for element in 0..<input.count {
            var plus = inputs, minus = inputs
            plus[index][element] += step
            minus[index][element] -= step
            let numeric = Float((loss(plus) - loss(minus)) / Double(2 * step))
            let got = analytic[index][element]
            XCTAssertEqual(got, numeric, accuracy: tolerance * max(1, abs(numeric)),
                           "input \(index) element \(element)", file: file, line: line)
        }
    }
}

/// Values uniform in [low, high] kept at least `margin` away from the kinks of piecewise functions.
func awayFromZero(_ shape: [Int], margin: Float = 0.1, using random: inout RandomSource) -> Tensor {
    Tensor.uniform(shape: shape, low: -2, high: 2, using: &random).mapped { abs($0) < margin ? $0 + 2 * margin : $0 }
}
