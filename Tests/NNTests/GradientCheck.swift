import Autodiff
import Kernels
import NN
import XCTest

/// Engine gradients of sum(f(inputs) · w) against central finite differences (see AutodiffTests).
func checkGradientsNN(_ inputs: [Tensor], step: Float = 1e-2, tolerance: Float = 1e-2,
                      file: StaticString = #filePath, line: UInt = #line, _ f: ([Variable]) -> Variable) {
    var random = RandomSource(seed: 9)
    let weighting = Tensor.uniform(shape: f(inputs.map(Variable.init)).shape, low: 0.5, high: 1.5, using: &random)
    func loss(_ values: [Tensor]) -> Double {
        zip(f(values.map(Variable.init)).value.scalars, weighting.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
    let leaves = inputs.map(Variable.leaf)
    let analytic = gradients(of: (f(leaves) * weighting).sum(), at: leaves)
    for (index, input) in inputs.enumerated() {
        for element in 0..<input.count {
            var plus = inputs, minus = inputs
            plus[index][element] += step
            minus[index][element] -= step
            let numeric = Float((loss(plus) - loss(minus)) / Double(2 * step))
            XCTAssertEqual(analytic[index][element], numeric, accuracy: tolerance * max(1, abs(numeric)),
                           "input \(index) element \(element)", file: file, line: line)
        }
    }
}

/// A layer's gradients in its input and every parameter against central finite differences.
func checkLayerGradients(_ layer: Layer, input: Tensor, step: Float = 1e-2, tolerance: Float = 1e-2,
                         file: StaticString = #filePath, line: UInt = #line) {
    var random = RandomSource(seed: 10)
    let weighting = Tensor.uniform(shape: layer(Variable(input)).shape, low: 0.5, high: 1.5, using: &random)
    func loss(_ x: Tensor) -> Double {
        zip(layer(Variable(x)).value.scalars, weighting.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
    let leaf = Variable.leaf(input)
    let parameters = layer.parameters
    let analytic = gradients(of: (layer(leaf) * weighting).sum(), at: [leaf] + parameters.map(\.variable))
    for element in 0..<input.count {
        var plus = input, minus = input
        plus[element] += step
        minus[element] -= step
        let numeric = Float((loss(plus) - loss(minus)) / Double(2 * step))
        XCTAssertEqual(analytic[0][element], numeric, accuracy: tolerance * max(1, abs(numeric)),
                       "input element \(element)", file: file, line: line)
    }
    for (index, parameter) in parameters.enumerated() {
        let original = parameter.value
        for element in 0..<original.count {
            parameter.value[element] = original[element] + step
            let plus = loss(input)
            parameter.value[element] = original[element] - step
            let minus = loss(input)
            parameter.value = original
            let numeric = Float((plus - minus) / Double(2 * step))
            XCTAssertEqual(analytic[index + 1][element], numeric, accuracy: tolerance * max(1, abs(numeric)),
                           "\(parameter.name) element \(element)", file: file, line: line)
        }
    }
}
